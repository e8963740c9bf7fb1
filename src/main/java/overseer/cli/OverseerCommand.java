package overseer.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code overseer} command and its sub-commands. */
@Command(
        name = "overseer",
        mixinStandardHelpOptions = true,
        versionProvider = VersionCommand.Provider.class,
        description = "A job runner whose whole configuration lives in Git.",
        subcommands = {
            ServeCommand.class,
            ValidateCommand.class,
            RunCommand.class,
            RemoteCommands.Trigger.class,
            RemoteCommands.Logs.class,
            RemoteCommands.Status.class,
            RemoteCommands.Jobs.class,
            RemoteCommands.Signal.class,
            BackupCommand.class,
            VersionCommand.class,
            CommandLine.HelpCommand.class
        })
public final class OverseerCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static CommandLine commandLine() {
        return new CommandLine(new OverseerCommand()).setCaseInsensitiveEnumValuesAllowed(true);
    }

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a sub-command is required");
    }
}
