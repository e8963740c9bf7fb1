package overseer.template;

import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import java.util.List;

/**
 * One rendering's single way out for values: {@code {{ }}}, {@code {% print %}} and everything
 * they print (filters, macros, {@code ~}, {@code join}) become markers in {@link Outputs}; only
 * {@code | raw} is written as it is. Also counts the rendering's loop steps.
 */
final class Printer {
    /** The context key it is found under; not a name a template can spell. */
    static final String KEY = "overseer:printer";

    /** Loop iterations one rendering may take in all (nested loops multiply quickly). */
    static final long MAX_STEPS = 100_000;

    private final Outputs outputs;
    private final ValueText text;
    private long steps;

    Printer(Outputs outputs, ValueText text) {
        this.outputs = outputs;
        this.text = text;
    }

    static Printer of(JinjavaInterpreter interpreter) {
        return (Printer) interpreter.getContext().get(KEY);
    }

    Outputs outputs() {
        return outputs;
    }

    String print(Object value, int line, int column) {
        if (value instanceof Raw raw) {
            return raw.text();
        }
        List<String> words = text.words(value);
        return outputs.mark(words, line, column);
    }

    /** Takes {@code count} steps; false once the rendering has taken more than it may. */
    boolean step(long count) {
        steps += count;
        return steps <= MAX_STEPS;
    }

    boolean exceeded() {
        return steps > MAX_STEPS;
    }
}
