package overseer;

import overseer.cli.OverseerCommand;

/** Entry point of {@code java -jar overseer.jar}. */
public final class Main {
    private Main() {}

    public static void main(String[] args) {
        System.exit(OverseerCommand.commandLine().execute(args));
    }
}
