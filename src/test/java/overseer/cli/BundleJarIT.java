package overseer.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The release bundle as an operator installs it: unpacked, its {@code bin/overseer} finds a JDK 25
 * or says in one line what it found wanting, and serves the example repository; the jar itself
 * explains an old Java instead of throwing UnsupportedClassVersionError.
 */
class BundleJarIT {
    private static final Path OLD_JDK = Path.of("/usr/lib/jvm/java-17-openjdk-amd64");

    @TempDir
    Path tmp;

    private Path home;

    private record Result(int exit, String stdout, String stderr) {}

    @BeforeEach
    void unpack() throws Exception {
        try (var bundles = Files.newDirectoryStream(Path.of("target"), "overseer-*.tar.gz")) {
            Path bundle = bundles.iterator().next();
            Result r = run(List.of("tar", "xzf", bundle.toAbsolutePath().toString(), "-C", tmp.toString()), Map.of());
            assertThat(r.exit()).as(r.stderr()).isZero();
        }
        try (var dirs = Files.newDirectoryStream(tmp, "overseer-*")) {
            home = dirs.iterator().next();
        }
        assertThat(home.resolve("bin/overseer")).isExecutable();
        assertThat(home.resolve("lib/overseer.jar")).exists();
        assertThat(home.resolve("lib-scripts/event")).isExecutable();
        assertThat(home.resolve("contrib/overseer.service")).exists();
        assertThat(home.resolve("README.rst")).exists();
    }

    private Result run(List<String> command, Map<String, String> env) throws Exception {
        ProcessBuilder builder = new ProcessBuilder(command).directory(tmp.toFile());
        builder.environment().clear();
        builder.environment().put("PATH", "/usr/bin:/bin");
        builder.environment().put("HOME", tmp.toString());
        builder.environment().putAll(env);
        Path out = Files.createTempFile(tmp, "out", ".txt");
        Path err = Files.createTempFile(tmp, "err", ".txt");
        Process p =
                builder.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return new Result(p.exitValue(), Files.readString(out), Files.readString(err));
    }

    /** A directory with only the tools the launcher uses, so that no java is on PATH. */
    private Path toolsWithoutJava() throws IOException {
        Path bin = Files.createDirectories(tmp.resolve("tools"));
        for (String tool :
                List.of("sh", "dirname", "sed", "head", "readlink", "cksum", "cut", "tr", "mkdir", "printf")) {
            for (String dir : List.of("/usr/bin/", "/bin/")) {
                Path real = Path.of(dir + tool);
                if (Files.isExecutable(real) && !Files.exists(bin.resolve(tool))) {
                    Files.createSymbolicLink(bin.resolve(tool), real);
                }
            }
        }
        return bin;
    }

    @Test
    void theLauncherSaysInOneLineThatItFoundAnOldJavaOrNone() throws Exception {
        // A fake JDK 17: its release file says so, and its java must never be run.
        Path fake = Files.createDirectories(tmp.resolve("jdk-17/bin"));
        Files.writeString(fake.getParent().resolve("release"), "JAVA_VERSION=\"17.0.2\"\n");
        Files.writeString(fake.resolve("java"), "#!/bin/sh\necho ran-old-java; exit 7\n");
        fake.resolve("java").toFile().setExecutable(true);
        String tools = toolsWithoutJava().toString();
        Result old = run(
                List.of(home.resolve("bin/overseer").toString(), "version"),
                Map.of("JAVA_HOME", fake.getParent().toString(), "PATH", tools, "OVERSEER_JDK_DIRS", ""));
        assertThat(old.exit()).isEqualTo(2);
        assertThat(old.stdout()).isEmpty();
        assertThat(old.stderr().lines().toList())
                .singleElement()
                .asString()
                .contains("needs Java 25")
                .contains("jdk-17/bin/java is Java 17")
                .contains("JAVA_HOME");
        Result none = run(
                List.of(home.resolve("bin/overseer").toString(), "version"),
                Map.of(
                        "PATH",
                        tools,
                        "OVERSEER_JDK_DIRS",
                        tmp.resolve("no-such-dir").toString()));
        assertThat(none.exit()).isEqualTo(2);
        assertThat(none.stderr().lines().toList()).singleElement().asString().contains("found no java");
        // With a JDK 25 in JAVA_HOME it runs, without the JVM's Unsafe warnings.
        Result ok = run(
                List.of(home.resolve("bin/overseer").toString(), "version"),
                Map.of("JAVA_HOME", System.getProperty("java.home"), "PATH", tools));
        assertThat(ok.exit()).as(ok.stderr()).isZero();
        assertThat(ok.stdout()).startsWith("overseer ");
        assertThat(ok.stderr()).doesNotContain("WARNING");
    }

    @Test
    void theJarOnAnOldJavaSaysSoInOneLine() throws Exception {
        assumeTrue(Files.isExecutable(OLD_JDK.resolve("bin/java")), "no JDK 17 at " + OLD_JDK + "; skipped");
        Result r = run(
                List.of(
                        OLD_JDK.resolve("bin/java").toString(),
                        "-jar",
                        home.resolve("lib/overseer.jar").toString(),
                        "version"),
                Map.of());
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.stderr().lines().toList())
                .singleElement()
                .asString()
                .startsWith("Overseer needs Java 25 or newer; this is 17 at ")
                .doesNotContain("UnsupportedClassVersionError");
    }

    @Test
    void theBundleServesTheExampleRepositoryThroughItsLauncher() throws Exception {
        Path repo = tmp.resolve("repo");
        copy(Path.of("example-config-repo"), repo);
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        ProcessBuilder builder = new ProcessBuilder(
                        home.resolve("bin/overseer").toString(),
                        "serve",
                        "--repo",
                        repo.toString(),
                        "--listen",
                        "127.0.0.1:" + port)
                .directory(tmp.toFile());
        builder.environment().put("JAVA_HOME", System.getProperty("java.home"));
        builder.environment().put("HOME", tmp.toString());
        Path log = tmp.resolve("server.log");
        Process server =
                builder.redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            HttpClient client = HttpClient.newHttpClient();
            ObjectMapper json = new ObjectMapper();
            URI base = URI.create("http://127.0.0.1:" + port);
            JsonNode jobs = null;
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (System.nanoTime() < deadline) {
                try {
                    jobs = json.readTree(client.send(
                                    HttpRequest.newBuilder(base.resolve("/jobs"))
                                            .build(),
                                    HttpResponse.BodyHandlers.ofString())
                            .body());
                    if (jobs.size() > 0) {
                        break;
                    }
                } catch (IOException notYet) {
                    // Still starting.
                }
                Thread.sleep(200);
            }
            assertThat(jobs).as(Files.readString(log)).isNotNull();
            assertThat(jobs.findValuesAsText("name")).contains("heartbeat", "deploy");
            HttpResponse<String> ran = client.send(
                    HttpRequest.newBuilder(base.resolve("/jobs/heartbeat?wait=30"))
                            .POST(HttpRequest.BodyPublishers.noBody())
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(ran.statusCode()).as(ran.body()).isEqualTo(201);
            assertThat(json.readTree(ran.body()).path("status").asText()).isEqualTo("complete");
            // The default data directory is under the working directory, not inside the bundle.
            assertThat(tmp.resolve("overseer-data")).isDirectory();
        } finally {
            server.destroy();
            server.waitFor(30, TimeUnit.SECONDS);
        }
    }

    private static void copy(Path from, Path to) throws IOException {
        try (var paths = Files.walk(from)) {
            for (Path p : (Iterable<Path>) paths::iterator) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target, java.nio.file.StandardCopyOption.COPY_ATTRIBUTES);
                }
            }
        }
    }
}
