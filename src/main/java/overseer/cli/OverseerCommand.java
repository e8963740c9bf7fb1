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
        CommandLine line = new CommandLine(new OverseerCommand()).setCaseInsensitiveEnumValuesAllowed(true);
        withHelp(line);
        return line;
    }

    /**
     * Every command takes {@code -h}/{@code --help}, answered before its required options are
     * checked, so that {@code overseer serve --help} shows the options instead of asking for one.
     */
    private static void withHelp(CommandLine line) {
        CommandLine.Model.CommandSpec spec = line.getCommandSpec();
        if (spec.optionsMap().get("--help") == null && !spec.name().equals("help")) {
            spec.addOption(CommandLine.Model.OptionSpec.builder("-h", "--help")
                    .usageHelp(true)
                    .description("Show this help message and exit.")
                    .build());
        }
        line.getSubcommands().values().forEach(OverseerCommand::withHelp);
    }

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a sub-command is required");
    }
}
