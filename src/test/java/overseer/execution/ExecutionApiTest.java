package overseer.execution;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import overseer.testing.ServerFixture;
import overseer.testing.TestRepo;
import overseer.testing.TestServer;

/** Triggering over HTTP, real processes, and what the API shows of them. */
class ExecutionApiTest {
    @RegisterExtension
    final ServerFixture fixture = ServerFixture.empty();

    TestRepo repo;
    TestServer server;

    @BeforeEach
    void start() throws Exception {
        repo = fixture.repo();
        repo.with("echo.yml", """
                        command: printf '%s\\n' {{ text }} "$OVERSEER_JOB/$OVERSEER_EXECUTION" "$OVERSEER_VAR_text"; echo oops >&2
                        vars:
                          - name: text
                            required: true
                        """)
                .with("args.yml", """
                        script: show-args
                        vars:
                          - {name: text}
                          - {name: count, type: int, option: true}
                          - {name: verbose, type: bool, option: true}
                          - {name: tags, type: seq}
                        """)
                .executable("scripts/show-args", "#!/bin/sh\nfor a in \"$@\"; do printf '[%s]\\n' \"$a\"; done\n")
                .with("typed.yml", """
                        command: "true"
                        vars:
                          - {name: n, type: int, required: true}
                          - {name: f, type: float}
                          - {name: on, type: bool}
                          - {name: when, type: timestamp}
                          - {name: color, type: enum, values: [red, green]}
                          - {name: labels, type: map}
                        """)
                .with("env.yml", """
                        command: env; echo "PATH=$PATH"; pwd; helper
                        env: {GREETING: hello}
                        """)
                .executable("bin/helper", "#!/bin/sh\necho helper-ran\n")
                .with("fails.yml", "command: exit 3\n")
                .with("merged.yml", """
                        command: i=0; while [ $i -lt 300 ]; do echo out$i; echo err$i >&2; i=$((i+1)); done
                        streams: merged
                        """)
                .with("huge.yml", """
                        command: echo {% for i in range(n) %}{{ pad }}{% endfor %}
                        vars:
                          - {name: n, type: int, required: true}
                          - {name: pad, required: true}
                        """)
                .with("nothing.yml", "description: no command\n")
                .with("numbered.yml", "command: echo run {{ execution }} of {{ job }}\n")
                .with("secretive.yml", """
                        command: echo "$OVERSEER_VAR_token" {{ who }}
                        vars:
                          - {name: token, secret: true, required: true}
                          - {name: who}
                        """)
                .commit("jobs");
        server = fixture.server();
    }

    private String output(String job, long n, String stream) throws Exception {
        HttpResponse<String> r = server.get("/jobs/" + job + "/" + n + "/" + stream);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type"))
                .hasValueSatisfying(t -> assertThat(t).startsWith("text/plain"));
        return r.body();
    }

    @Test
    void mergedStreamsKeepTheExactOrderOfWritesAndLeaveStderrEmpty() throws Exception {
        HttpResponse<String> r = server.postJson("/jobs/merged?wait=20", "{}");
        assertThat(TestServer.parse(r.body()).get("status").asText()).isEqualTo("complete");
        StringBuilder expected = new StringBuilder();
        for (int i = 0; i < 300; i++) {
            expected.append("out")
                    .append(i)
                    .append('\n')
                    .append("err")
                    .append(i)
                    .append('\n');
        }
        assertThat(output("merged", 1, "stdout")).isEqualTo(expected.toString());
        assertThat(output("merged", 1, "output")).isEqualTo(expected.toString());
        assertThat(output("merged", 1, "stderr")).isEmpty();
    }

    @Test
    void triggerRunsTheCommandAndRecordsItsOutputAndEvents() throws Exception {
        HttpResponse<String> response = server.postJson("/jobs/echo?wait=20", "{\"text\": \"hello world\"}");
        assertThat(response.statusCode()).isEqualTo(201);
        assertThat(response.headers().firstValue("Location")).contains("/jobs/echo/1");
        JsonNode e = TestServer.parse(response.body());
        assertThat(e.get("status").asText()).isEqualTo("complete");
        assertThat(e.get("exit_code").asInt()).isZero();
        assertThat(e.get("trigger").asText()).isEqualTo("api");
        assertThat(e.get("params").get("text").asText()).isEqualTo("hello world");
        assertThat(e.get("rendered").asText()).startsWith("printf '%s\\n' 'hello world' ");
        assertThat(e.get("commit").asText()).hasSize(40);
        assertThat(e.get("events"))
                .extracting(ev -> ev.get("name").asText())
                .containsExactly("queued", "start", "complete");

        assertThat(output("echo", 1, "stdout")).isEqualTo("hello world\necho/1\nhello world\n");
        assertThat(output("echo", 1, "stderr")).isEqualTo("oops\n");
        assertThat(output("echo", 1, "output")).contains("hello world\n", "oops\n");
        assertThat(server.json("/jobs/echo/1/start").get("source").asText()).isEqualTo("overseer");
        assertThat(server.get("/jobs/echo/1/nosuchevent").statusCode()).isEqualTo(404);
        assertThat(server.get("/jobs/echo/2").statusCode()).isEqualTo(404);

        assertThat(server.trigger("echo", "{\"text\": \"again\"}")
                        .get("execution")
                        .asInt())
                .isEqualTo(2);
        server.awaitFinished("echo", 2);
        JsonNode list = server.json("/jobs/echo/executions");
        assertThat(list).extracting(x -> x.get("execution").asInt()).containsExactly(2, 1);
        assertThat(server.json("/jobs/echo/executions?limit=1&before=2"))
                .singleElement()
                .satisfies(x -> assertThat(x.get("execution").asInt()).isEqualTo(1));
        assertThat(server.json("/jobs/echo").get("executions")).hasSize(2);
        JsonNode echo = null;
        for (JsonNode job : server.json("/jobs")) {
            if (job.get("name").asText().equals("echo")) {
                echo = job;
            }
        }
        assertThat(echo).isNotNull();
        assertThat(echo.get("last_execution").get("execution").asInt()).isEqualTo(2);
    }

    @Test
    void aShellInjectionArrivesAsOneLiteralArgument() throws Exception {
        Path marker = fixture.tmp().resolve("injected");
        String evil = "$(touch " + marker + "); rm -rf ~ `touch " + marker + "` '\"; touch " + marker;
        JsonNode e = server.trigger(
                "echo",
                new com.fasterxml.jackson.databind.ObjectMapper()
                        .createObjectNode()
                        .put("text", evil)
                        .toString());
        JsonNode done = server.awaitFinished("echo", e.get("execution").asLong());
        assertThat(done.get("status").asText()).isEqualTo("complete");
        assertThat(output("echo", 1, "stdout")).isEqualTo(evil + "\necho/1\n" + evil + "\n");
        assertThat(marker).doesNotExist();
    }

    @Test
    void scriptsGetTheirArgumentsAsSeparateWordsAndOptionsAppended() throws Exception {
        server.trigger("args", "{\"text\": \"a b\", \"count\": 3, \"verbose\": true, \"tags\": [\"x y\", \"$HOME\"]}");
        assertThat(server.awaitFinished("args", 1).get("status").asText()).isEqualTo("complete");
        assertThat(output("args", 1, "stdout")).isEqualTo("[a b]\n[--count]\n[3]\n[--verbose]\n[x y]\n[$HOME]\n");
    }

    @Test
    void wrongParamsAreOne400ListingEveryField() throws Exception {
        HttpResponse<String> r = server.postJson(
                "/jobs/typed", "{\"n\": \"five\", \"f\": true, \"color\": \"blue\", \"labels\": [1], \"nope\": 1}");
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(r.headers().firstValue("Content-Type")).contains("application/problem+json");
        JsonNode problem = TestServer.parse(r.body());
        assertThat(problem.get("errors"))
                .extracting(x -> x.get("field").asText())
                .containsExactlyInAnyOrder("n", "f", "color", "labels", "nope");
        assertThat(server.postJson("/jobs/typed", "{}").body()).contains("required parameter is missing");
        assertThat(server.json("/jobs/typed/executions")).isEmpty();
    }

    @Test
    void formAndQueryStringsAreCoercedToTheVarTypes() throws Exception {
        HttpResponse<String> form = server.send(HttpRequest.newBuilder(server.uri("/jobs/typed?wait=10&f=2.5"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(
                        "n=5&on=yes&when=2026-01-31T12%3A00%3A00Z&color=green&labels=%7B%22a%22%3A1%7D")));
        assertThat(form.statusCode()).as(form.body()).isEqualTo(201);
        JsonNode params = TestServer.parse(form.body()).get("params");
        assertThat(params.get("n").asInt()).isEqualTo(5);
        assertThat(params.get("f").asDouble()).isEqualTo(2.5);
        assertThat(params.get("on").asBoolean()).isTrue();
        assertThat(params.get("labels").get("a").asInt()).isEqualTo(1);
        HttpResponse<String> query = server.post("/jobs/typed?n=x&on=maybe", "");
        assertThat(query.statusCode()).isEqualTo(400);
        assertThat(TestServer.parse(query.body()).get("errors"))
                .extracting(x -> x.get("field").asText())
                .containsExactlyInAnyOrder("n", "on");
    }

    @Test
    void theJobSeesTheDocumentedEnvironmentAndPath() throws Exception {
        server.trigger("env", "{}");
        JsonNode done = server.awaitFinished("env", 1);
        assertThat(done.get("status").asText()).as(output("env", 1, "output")).isEqualTo("complete");
        String out = output("env", 1, "stdout");
        Path checkout = server.activeCheckout();
        assertThat(out)
                .contains("GREETING=hello\n", "OVERSEER_JOB=env\n", "OVERSEER_EXECUTION=1\n")
                .contains("OVERSEER_COMMIT=" + done.get("commit").asText() + "\n")
                .contains("OVERSEER_URL=" + server.uri("").toString().replaceAll("/$", "") + "\n")
                .contains("PATH=" + fixture.data().resolve("lib") + ":" + checkout.resolve("bin") + ":")
                .contains(checkout + "\n")
                .contains("helper-ran\n")
                .containsPattern("OVERSEER_TOKEN=[0-9a-f]{48}\n");
    }

    @Test
    void aCommandThatCannotBeRenderedIsA400AndRecordsNothing() throws Exception {
        HttpResponse<String> r = server.postJson("/jobs/huge", "{\"n\": 1000, \"pad\": \"" + "y".repeat(1000) + "\"}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
        assertThat(TestServer.parse(r.body()).get("errors").get(0).get("field").asText())
                .isEqualTo("command");
        assertThat(server.trigger("huge", "{\"n\": 2, \"pad\": \"ab\"}")
                        .get("execution")
                        .asInt())
                .isEqualTo(1);
        assertThat(server.awaitFinished("huge", 1).get("status").asText()).isEqualTo("complete");
        assertThat(server.get("/jobs/huge/1/stdout").body()).isEqualTo("abab\n");
    }

    @Test
    void exitCodesAndEmptyJobsEndAsSpecified() throws Exception {
        server.trigger("fails", "{}");
        JsonNode failed = server.awaitFinished("fails", 1);
        assertThat(failed.get("status").asText()).isEqualTo("fail");
        assertThat(failed.get("state").asText()).isEqualTo("failed");
        assertThat(failed.get("exit_code").asInt()).isEqualTo(3);
        assertThat(server.json("/jobs/fails/1/fail").get("cause").asText()).isEqualTo("exit code 3");

        server.trigger("nothing", "{}");
        JsonNode nothing = server.awaitFinished("nothing", 1);
        assertThat(nothing.get("status").asText()).isEqualTo("complete");
        assertThat(nothing.get("state").asText()).isEqualTo("succeeded");
        // The lists filter by state; a state that does not exist is a 400 naming the field.
        assertThat(server.json("/executions?state=failed"))
                .extracting(
                        e -> e.get("job").asText() + "/" + e.get("execution").asLong())
                .containsExactly("fails/1");
        assertThat(server.json("/jobs/nothing/executions?state=succeeded")).hasSize(1);
        assertThat(server.json("/jobs/nothing/executions?state=failed")).isEmpty();
        var bad = server.get("/executions?state=done");
        assertThat(bad.statusCode()).isEqualTo(400);
        assertThat(bad.body()).contains("state").contains("succeeded");
        assertThat(nothing.get("events"))
                .extracting(ev -> ev.get("name").asText())
                .containsExactly("queued", "start", "complete");
    }

    @Test
    void disabledJobsRefuseTriggersUntilEnabledAgain() throws Exception {
        assertThat(server.delete("/jobs/fails").statusCode()).isEqualTo(200);
        assertThat(server.postJson("/jobs/fails", "{}").statusCode()).isEqualTo(409);
        assertThat(server.json("/jobs/fails").get("enabled").asBoolean()).isFalse();
        assertThat(server.put("/jobs/fails", "").statusCode()).isEqualTo(200);
        assertThat(server.postJson("/jobs/fails", "{}").statusCode()).isEqualTo(201);
        assertThat(server.postJson("/jobs/nosuchjob", "{}").statusCode()).isEqualTo(404);
        assertThat(server.delete("/jobs/nosuchjob").statusCode()).isEqualTo(404);
        assertThat(server.get("/jobs/nosuchjob/executions").statusCode()).isEqualTo(404);
    }

    @Test
    void anIdempotencyKeyNeverRunsTwice() throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(server.uri("/jobs/echo"))
                .header("Content-Type", "application/json")
                .header("Idempotency-Key", "order-42")
                .POST(HttpRequest.BodyPublishers.ofString("{\"text\": \"once\"}"));
        HttpResponse<String> first = server.send(request);
        HttpResponse<String> again = server.send(request);
        assertThat(first.statusCode()).isEqualTo(201);
        assertThat(again.statusCode()).isEqualTo(201);
        assertThat(TestServer.parse(again.body()).get("execution").asInt()).isEqualTo(1);
        assertThat(again.headers().firstValue("Idempotent-Replayed")).contains("true");
        server.awaitFinished("echo", 1);
        assertThat(server.json("/jobs/echo/executions")).hasSize(1);
    }

    @Test
    void repeatRunsWithTheSameParams() throws Exception {
        server.trigger("echo", "{\"text\": \"same\"}");
        server.awaitFinished("echo", 1);
        HttpResponse<String> r = server.post("/jobs/echo/1", "");
        assertThat(r.statusCode()).isEqualTo(201);
        JsonNode repeat = TestServer.parse(r.body());
        assertThat(repeat.get("trigger").asText()).isEqualTo("repeat");
        server.awaitFinished("echo", 2);
        assertThat(output("echo", 2, "stdout")).startsWith("same\n");
        assertThat(Files.exists(fixture.tmp().resolve("data/executions/echo/2/stdout")))
                .isTrue();
    }

    @Test
    void jsonStringsThatSpellAValueOfTheTypeAreAcceptedAsInForms() throws Exception {
        HttpResponse<String> r = server.postJson(
                "/jobs/typed",
                "{\"n\": \"5\", \"f\": \"2.5\", \"on\": \"true\", \"color\": \"green\","
                        + " \"labels\": \"{\\\"a\\\": 1}\"}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        JsonNode params = TestServer.parse(r.body()).get("params");
        assertThat(params.get("n").isIntegralNumber()).isTrue();
        assertThat(params.get("n").asInt()).isEqualTo(5);
        assertThat(params.get("f").asDouble()).isEqualTo(2.5);
        assertThat(params.get("on").isBoolean()).isTrue();
        assertThat(params.get("labels").get("a").asInt()).isEqualTo(1);
        JsonNode echo = server.trigger("echo", "{\"text\": 5}");
        assertThat(echo.get("params").get("text").asText()).isEqualTo("5");
        assertThat(echo.get("params").get("text").isTextual()).isTrue();
        HttpResponse<String> bad = server.postJson("/jobs/typed", "{\"n\": \"5x\", \"on\": \"perhaps\"}");
        assertThat(bad.statusCode()).isEqualTo(400);
        assertThat(TestServer.parse(bad.body()).get("errors"))
                .extracting(x -> x.get("field").asText())
                .containsExactlyInAnyOrder("n", "on");
    }

    @Test
    void aRepeatOfAFinishedExecutionNeedsItsSecretsAgain() throws Exception {
        server.trigger("secretive", "{\"token\": \"s3cr3t-value\", \"who\": \"me\"}");
        server.awaitFinished("secretive", 1);
        assertThat(output("secretive", 1, "stdout")).isEqualTo("*** me ***\n");
        HttpResponse<String> without = server.post("/jobs/secretive/1", "");
        assertThat(without.statusCode()).isEqualTo(400);
        assertThat(TestServer.parse(without.body()).get("errors"))
                .extracting(x -> x.get("field").asText())
                .containsExactly("token");
        HttpResponse<String> with = server.postJson("/jobs/secretive/1", "{\"token\": \"another\"}");
        assertThat(with.statusCode()).as(with.body()).isEqualTo(201);
        server.awaitFinished("secretive", 2);
        assertThat(output("secretive", 2, "stdout")).isEqualTo("*** me ***\n");
        // The secret is gone from the store once the execution ended.
        try (var db = overseer.testing.ServerStores.connect(fixture.tmp().resolve("data"));
                var rs = db.createStatement().executeQuery("SELECT secrets, launch FROM executions")) {
            while (rs.next()) {
                assertThat(rs.getString(1) + rs.getString(2)).doesNotContain("s3cr3t-value", "another");
            }
        }
    }

    @Test
    void aTemplateThatUsesTheExecutionNumberGetsItsOwn() throws Exception {
        assertThat(server.trigger("numbered", "{}").get("rendered").asText()).isEqualTo("echo run 1 of numbered");
        assertThat(server.trigger("numbered", "{}").get("rendered").asText()).isEqualTo("echo run 2 of numbered");
        server.awaitFinished("numbered", 2);
        assertThat(output("numbered", 2, "stdout")).isEqualTo("run 2 of numbered\n");
    }

    @Test
    void jobsArePagedByNameOnRequestAndAllStreamedOtherwise() throws Exception {
        HttpResponse<String> first = server.get("/jobs?limit=3");
        assertThat(names(TestServer.parse(first.body()))).containsExactly("args", "echo", "env");
        assertThat(first.headers().firstValue("Link")).contains("</jobs?limit=3&after=env>; rel=\"next\"");
        HttpResponse<String> last = server.get("/jobs?limit=5&after=numbered");
        assertThat(names(TestServer.parse(last.body()))).containsExactly("secretive", "typed");
        assertThat(last.headers().firstValue("Link")).isEmpty();
        assertThat(names(server.json("/jobs"))).hasSize(10).startsWith("args").endsWith("typed");
        assertThat(server.get("/jobs?limit=0").statusCode()).isEqualTo(400);
    }

    private static java.util.List<String> names(JsonNode jobs) {
        java.util.List<String> names = new java.util.ArrayList<>();
        jobs.forEach(j -> names.add(j.path("name").asText()));
        return names;
    }
}
