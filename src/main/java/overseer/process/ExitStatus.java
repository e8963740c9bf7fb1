package overseer.process;

/** How a process ended. */
public sealed interface ExitStatus {
    record Exited(int code) implements ExitStatus {}

    record Signaled(int signal) implements ExitStatus {}

    /** Decodes a raw {@code waitpid} status. */
    static ExitStatus of(int status) {
        int signal = status & 0x7f;
        return signal == 0 ? new Exited((status >> 8) & 0xff) : new Signaled(signal);
    }

    default String describe() {
        return switch (this) {
            case Exited(int code) -> "exit code " + code;
            case Signaled(int signal) -> "killed by signal " + signal + " (" + Signals.name(signal) + ")";
        };
    }
}
