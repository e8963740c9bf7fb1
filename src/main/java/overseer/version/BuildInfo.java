package overseer.version;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/** The version of this build, as Maven stamped it into the jar. */
public record BuildInfo(String version, String java) {
    public static BuildInfo current() {
        Properties properties = new Properties();
        try (InputStream in = BuildInfo.class.getResourceAsStream("/overseer/version.properties")) {
            if (in != null) {
                properties.load(in);
            }
        } catch (IOException e) {
            // An unreadable resource only loses the version string.
        }
        return new BuildInfo(
                properties.getProperty("version", "unknown"), Runtime.version().toString());
    }
}
