package overseer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * No container engine runs here, so the facts README.rst states about the image and the systemd
 * unit are checked in the files themselves.
 */
class DeploymentFilesTest {
    @Test
    void theDockerfileBuildsWithTheHelpersAndRunsUnprivilegedUnderAnInitWithAHealthCheck() throws Exception {
        String docker = Files.readString(Path.of("Dockerfile"));
        assertThat(docker).contains("FROM eclipse-temurin:25-jdk AS build", "FROM eclipse-temurin:25-jre");
        // Without lib-scripts in the build stage the jar lacks `event` and the server does not start.
        assertThat(docker.indexOf("COPY lib-scripts lib-scripts"))
                .isPositive()
                .isLessThan(docker.indexOf("package -DskipTests"));
        assertThat(docker).contains("USER overseer", "VOLUME /var/lib/overseer", "EXPOSE 8080");
        assertThat(docker)
                .contains(
                        "OVERSEER_DATA=/var/lib/overseer",
                        "OVERSEER_LISTEN=0.0.0.0:8080",
                        "OVERSEER_TOKENS=/etc/overseer/tokens");
        assertThat(docker).contains("HEALTHCHECK", "http://127.0.0.1:8080/ready");
        // The launcher of the release bundle starts the server, as on a host.
        assertThat(docker).contains("ENTRYPOINT [\"/usr/bin/tini\", \"--\", \"/opt/overseer/bin/overseer\"]");
        assertThat(docker.indexOf("COPY contrib contrib"))
                .isPositive()
                .isLessThan(docker.indexOf("package -DskipTests"));
    }

    @Test
    void theSystemdUnitStopsTheServerAloneFirst() throws Exception {
        String unit = Files.readString(Path.of("contrib/overseer.service"));
        assertThat(unit)
                .contains(
                        "KillMode=mixed",
                        "Environment=OVERSEER_DATA=/var/lib/overseer",
                        "User=overseer",
                        "ExecStart=/opt/overseer/bin/overseer serve",
                        "RestartPreventExitStatus=2");
    }
}
