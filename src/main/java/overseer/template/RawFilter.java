package overseer.template;

import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.filter.Filter;

/** {@code | raw}: the documented opt-out of shell quoting, for values that are meant as shell code. */
final class RawFilter implements Filter {
    private final ValueText text;

    RawFilter(ValueText text) {
        this.text = text;
    }

    @Override
    public String getName() {
        return "raw";
    }

    @Override
    public Object filter(Object value, JinjavaInterpreter interpreter, String... args) {
        return new Raw(text.plain(value));
    }
}
