package overseer.job;

import java.util.List;
import java.util.Optional;

/**
 * A declared job parameter. {@code defaultValue} holds plain data as {@link Node#plain()} gives;
 * {@code append} says whether the var is appended to the command when the template does not
 * mention it.
 */
public record VarSpec(
        String name,
        VarType type,
        boolean option,
        List<Object> values,
        boolean required,
        Optional<Object> defaultValue,
        boolean secret,
        boolean append) {
    public VarSpec {
        values = List.copyOf(values);
    }

    /** A var that is appended when the template does not mention it, as vars are by default. */
    public VarSpec(
            String name,
            VarType type,
            boolean option,
            List<Object> values,
            boolean required,
            Optional<Object> defaultValue,
            boolean secret) {
        this(name, type, option, values, required, defaultValue, secret, true);
    }
}
