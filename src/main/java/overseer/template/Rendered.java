package overseer.template;

import java.util.List;

/**
 * What an execution runs: the argument vector for the process, and the same command as the API
 * shows it, with every secret value replaced by {@code ***}.
 */
public record Rendered(List<String> argv, String display) {
    public Rendered {
        argv = List.copyOf(argv);
    }
}
