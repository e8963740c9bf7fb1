package overseer.template;

import java.util.List;

/**
 * What an execution runs: the argument vector for the process, and the same command as the API
 * shows it, with every secret value replaced by {@code ***}. {@code usesNumber} says whether a
 * template used {@code execution}: only then does the result depend on the execution's number.
 */
public record Rendered(List<String> argv, String display, boolean usesNumber) {
    public Rendered {
        argv = List.copyOf(argv);
    }
}
