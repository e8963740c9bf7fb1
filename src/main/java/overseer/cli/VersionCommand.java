package overseer.cli;

import java.util.concurrent.Callable;
import overseer.version.BuildInfo;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code overseer version}: prints the build's version. */
@Command(name = "version", description = "Print the version of Overseer and of the Java runtime.")
public final class VersionCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    static final class Provider implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            BuildInfo build = BuildInfo.current();
            return new String[] {"overseer " + build.version() + " (Java " + build.java() + ")"};
        }
    }

    @Override
    public Integer call() {
        spec.commandLine().getOut().println(new Provider().getVersion()[0]);
        return 0;
    }
}
