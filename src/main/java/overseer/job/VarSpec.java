package overseer.job;

import java.util.List;
import java.util.Optional;

/** A declared job parameter. {@code defaultValue} holds plain data as {@link Node#plain()} gives. */
public record VarSpec(
        String name,
        VarType type,
        boolean option,
        List<Object> values,
        boolean required,
        Optional<Object> defaultValue,
        boolean secret) {
    public VarSpec {
        values = List.copyOf(values);
    }
}
