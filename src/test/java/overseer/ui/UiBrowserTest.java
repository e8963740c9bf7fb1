package overseer.ui;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.NoAlertPresentException;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;
import overseer.testing.TestRepo;
import overseer.testing.TestServer;

/**
 * The web UI in a real browser: headless Chromium driven through the system's chromedriver
 * (Debian's chromium and chromium-driver; .ci/run installs them), against a real server.
 * {@code -Doverseer.ui.screenshots=docs} writes the screenshots README shows.
 */
class UiBrowserTest {
    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    private static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
    private static final String HOSTILE = "<script>alert('x')</script><img src=x onerror=alert('y')>";

    private static WebDriver driver;
    private static Path profile;

    @TempDir
    Path tmp;

    @BeforeAll
    static void browser() throws IOException {
        assumeTrue(
                Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER),
                "needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)");
        profile = Files.createTempDirectory("overseer-chromium");
        ChromeOptions options = new ChromeOptions()
                .setBinary(CHROMIUM.toFile())
                .addArguments(
                        "--headless=new",
                        "--no-sandbox",
                        "--disable-gpu",
                        "--disable-dev-shm-usage",
                        "--disable-background-networking",
                        "--disable-component-update",
                        "--disable-sync",
                        "--no-first-run",
                        "--window-size=1280,900",
                        "--user-data-dir=" + profile);
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(CHROMEDRIVER.toFile())
                .usingAnyFreePort()
                .build();
        driver = new ChromeDriver(service, options);
    }

    @AfterAll
    static void closeBrowser() throws IOException {
        if (driver != null) {
            driver.quit();
        }
        if (profile != null) {
            try (Stream<Path> tree = Files.walk(profile)) {
                for (Path p : tree.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    /** The example repository, plus a slow job and one whose every string is hostile. */
    private TestRepo repository() throws Exception {
        TestRepo repo = example();
        repo.with("slow.yml", "command: for i in $(seq 1 40); do echo line $i; sleep 0.25; done\n")
                .with("typed.yml", """
                        vars:
                          - {name: count, type: int}
                          - {name: ratio, type: float}
                          - {name: when, type: timestamp}
                          - {name: password, secret: true}
                          - {name: hosts, type: seq}
                          - {name: labels, type: map}
                        command: "true"
                        """)
                .with("hostile.yml", """
                        description: "%1$s"
                        vars:
                          - {name: note, default: "%1$s"}
                        command: echo {{ note }}; echo '%2$s' >&2; event custom '%2$s'
                        """.formatted(HOSTILE.replace("\"", "\\\""), HOSTILE.replace("'", "")))
                .commit("jobs");
        return repo;
    }

    /** The example repository as README's quick start serves it, uncommitted. */
    private TestRepo example() throws Exception {
        TestRepo repo = TestRepo.create(tmp.resolve("repo"));
        Path example = Path.of("example-config-repo");
        try (Stream<Path> files = Files.walk(example)) {
            for (Path file : files.filter(Files::isRegularFile).toList()) {
                String name = example.relativize(file).toString();
                if (Files.isExecutable(file)) {
                    repo.executable(name, Files.readString(file));
                } else {
                    repo.with(name, Files.readString(file));
                }
            }
        }
        return repo;
    }

    /**
     * The pages README shows, on the example repository alone (its jobs, nothing added): runs with
     * their states, the jobs, deploy's form filled in, and an execution with custom events.
     */
    @Test
    void thePagesOfTheExampleRepository() throws Exception {
        TestRepo repo = example();
        repo.commit("the example");
        try (repo;
                TestServer server =
                        TestServer.on(repo.url(), tmp.resolve("data")).start()) {
            server.trigger("deploy", "{\"service\": \"web\"}");
            server.trigger("backup", "{}");
            server.trigger("nightly", "{}");
            server.awaitFinished("deploy", 1);
            server.awaitFinished("backup", 1);
            server.awaitFinished("nightly", 1);
            server.trigger("deploy", "{\"service\": \"api\", \"environment\": \"production\", \"dry_run\": true}");
            server.awaitFinished("deploy", 2);

            driver.get(base(server));
            awaitText(By.tagName("main"), "nightly #1");
            assertThat(driver.findElement(By.tagName("main")).getText()).contains("succeeded");
            screenshot("runs");

            driver.get(base(server) + "#/jobs");
            awaitText(By.id("jobs"), "heartbeat");
            assertThat(driver.findElement(By.id("jobs")).getText())
                    .contains("deploy", "backup", "heartbeat", "nightly")
                    .doesNotContain("slow", "hostile");
            screenshot("jobs");

            driver.get(base(server) + "#/jobs/deploy");
            await(By.id("var-service")).sendKeys("web");
            screenshot("job");

            driver.get(base(server) + "#/jobs/nightly/1");
            awaitText(By.id("events"), "published");
            awaitText(By.id("output"), "collecting");
            screenshot("execution");
        }
    }

    private static String base(TestServer server) {
        return server.uri("/ui/").toString();
    }

    private static WebElement await(By by) {
        return new WebDriverWait(driver, Duration.ofSeconds(15))
                .ignoring(StaleElementReferenceException.class)
                .until(d -> d.findElements(by).stream()
                        .filter(WebElement::isDisplayed)
                        .findFirst()
                        .orElse(null));
    }

    private static void awaitText(By by, String text) {
        // Pages redraw as they poll: an element found may be gone by the time it is read.
        new WebDriverWait(driver, Duration.ofSeconds(20)).until(d -> {
            try {
                return d.findElements(by).stream().anyMatch(e -> e.getText().contains(text));
            } catch (StaleElementReferenceException redrawn) {
                return false;
            }
        });
    }

    private static void noAlert() {
        try {
            driver.switchTo().alert();
            throw new AssertionError("a script from the data ran: an alert is open");
        } catch (NoAlertPresentException expected) {
            // Nothing ran.
        }
    }

    private static void screenshot(String name) throws IOException {
        String dir = System.getProperty("overseer.ui.screenshots");
        if (dir != null) {
            Path file = Path.of(dir, name + ".png");
            Files.createDirectories(file.getParent());
            Files.write(file, ((TakesScreenshot) driver).getScreenshotAs(OutputType.BYTES));
        }
    }

    @Test
    void jobsTriggerFormLiveOutputKillRejectedCommitAndHostileText() throws Exception {
        try (TestRepo repo = repository();
                TestServer server =
                        TestServer.on(repo.url(), tmp.resolve("data")).start()) {
            // The jobs page lists the example's jobs.
            driver.get(base(server) + "#/jobs");
            awaitText(By.id("jobs"), "deploy");
            String jobs = driver.findElement(By.id("jobs")).getText();
            assertThat(jobs).contains("deploy", "backup", "heartbeat", "nightly", "slow", "hostile");

            // deploy's form: a missing required field is refused with the server's words beside it.
            driver.get(base(server) + "#/jobs/deploy");
            await(By.id("trigger")).click();
            awaitText(By.id("var-service-error"), "required");
            assertThat(driver.findElement(By.id("var-service-error")).getText()).isNotBlank();
            assertThat(driver.getCurrentUrl()).endsWith("#/jobs/deploy");
            assertThat(driver.findElement(By.id("var-environment")).getTagName())
                    .isEqualTo("select");
            assertThat(driver.findElement(By.id("var-dry_run")).getAttribute("type"))
                    .isEqualTo("checkbox");
            driver.findElement(By.id("var-service")).sendKeys("web");
            driver.findElement(By.id("trigger")).click();
            new WebDriverWait(driver, Duration.ofSeconds(15))
                    .until(d -> d.getCurrentUrl().endsWith("#/jobs/deploy/1"));
            awaitText(By.id("facts"), "web");

            // Each var type gets its input; a JSON list and a number go to the server typed.
            driver.get(base(server) + "#/jobs/typed");
            await(By.id("trigger"));
            assertThat(driver.findElement(By.id("var-count")).getAttribute("type"))
                    .isEqualTo("number");
            assertThat(driver.findElement(By.id("var-ratio")).getAttribute("step"))
                    .isEqualTo("any");
            assertThat(driver.findElement(By.id("var-when")).getAttribute("type"))
                    .isEqualTo("datetime-local");
            assertThat(driver.findElement(By.id("var-password")).getAttribute("type"))
                    .isEqualTo("password");
            assertThat(driver.findElement(By.id("var-hosts")).getTagName()).isEqualTo("textarea");
            assertThat(driver.findElement(By.id("var-labels")).getTagName()).isEqualTo("textarea");
            driver.findElement(By.id("var-count")).sendKeys("3");
            driver.findElement(By.id("var-hosts")).sendKeys("[\"a\", \"b\"]");
            driver.findElement(By.id("var-password")).sendKeys("hunter2");
            driver.findElement(By.id("trigger")).click();
            new WebDriverWait(driver, Duration.ofSeconds(15))
                    .until(d -> d.getCurrentUrl().endsWith("#/jobs/typed/1"));
            var params = server.json("/jobs/typed/1").path("params");
            assertThat(params.path("count").asInt()).isEqualTo(3);
            assertThat(params.path("hosts").isArray()).isTrue();
            assertThat(params.path("password").asText()).isEqualTo("***");
            awaitText(By.id("params"), "***");
            assertThat(driver.findElement(By.tagName("main")).getText()).doesNotContain("hunter2");

            // A slow job's output appears while it is still printing; kill ends it.
            server.trigger("slow", "{}");
            driver.get(base(server) + "#/jobs/slow/1");
            awaitText(By.id("output"), "line 2");
            assertThat(driver.findElement(By.id("output")).getText()).doesNotContain("line 40");
            assertThat(server.json("/jobs/slow/1").path("finished_at").isNull()).isTrue();
            await(By.id("signal-kill")).click();
            server.await("/jobs/slow/1", e -> !e.path("finished_at").isNull());
            awaitText(By.id("events"), "kill");

            // Hostile strings from the job file, a param, the output and an event cause are text.
            server.trigger("hostile", "{}");
            server.awaitFinished("hostile", 1);
            driver.get(base(server) + "#/jobs/hostile");
            awaitText(By.tagName("main"), "<script>alert('x')</script>");
            noAlert();
            driver.get(base(server) + "#/jobs/hostile/1");
            awaitText(By.id("events"), "custom");
            awaitText(By.id("output"), "<script>");
            noAlert();
            assertThat(driver.findElements(By.cssSelector("main img, main script")))
                    .isEmpty();

            // A rejected commit's problems are shown with file, line and column.
            repo.with("broken.yml", "command: echo\n\"" + HOSTILE.replace("\"", "'") + "\": 1\n")
                    .commit("broken");
            server.post("/config/sync", "");
            driver.get(base(server) + "#/jobs");
            awaitText(By.id("rejected"), "broken.yml:2:1");
            noAlert();
            assertThat(driver.findElements(By.cssSelector("main img, main script")))
                    .isEmpty();

            driver.get(base(server));
            awaitText(By.tagName("main"), "slow #1");
        }
    }

    @Test
    void aReadTokenSeesNoTriggerFormAndNoSignals() throws Exception {
        Path tokens = Files.writeString(
                tmp.resolve("tokens"), "read read-token-0123456789abcdef viewer\nadmin admin-token-0123456789abcdef\n");
        try (TestRepo repo = repository();
                TestServer server = TestServer.on(repo.url(), tmp.resolve("data"))
                        .tokens(tokens)
                        .start()) {
            server.send(java.net.http.HttpRequest.newBuilder(server.uri("/jobs/slow"))
                    .header("Authorization", "Bearer admin-token-0123456789abcdef")
                    .POST(java.net.http.HttpRequest.BodyPublishers.noBody()));
            driver.get(base(server) + "#/jobs/slow");
            await(By.id("login-token")).sendKeys("read-token-0123456789abcdef");
            driver.findElement(By.cssSelector("#login-form button")).click();
            awaitText(By.id("who"), "viewer (read)");
            awaitText(By.tagName("main"), "Executions");
            assertThat(driver.findElements(By.id("trigger-form"))).isEmpty();
            assertThat(driver.findElements(By.id("toggle"))).isEmpty();
            driver.get(base(server) + "#/jobs/slow/1");
            awaitText(By.id("facts"), "api");
            assertThat(driver.findElements(By.id("signals"))).isEmpty();
            assertThat(driver.findElements(By.id("repeat"))).isEmpty();
        }
    }
}
