package overseer;

import overseer.cli.OverseerCommand;
import picocli.CommandLine;

/** Entry point of {@code java -jar overseer.jar}. */
public final class Main {
    private Main() {}

    public static void main(String[] args) {
        // Undertow and XNIO log through jboss-logging; send them to the same one-line log as ours.
        System.setProperty("org.jboss.logging.provider", "slf4j");
        System.exit(OverseerCommand.commandLine().execute(args));
    }
}
