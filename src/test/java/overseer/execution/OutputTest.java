package overseer.execution;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import overseer.testing.ServerFixture;
import overseer.testing.TestRepo;
import overseer.testing.TestServer;

/** Captured output: complete, readable in ranges and while running, with secrets masked. */
class OutputTest {
    @RegisterExtension
    final ServerFixture fixture = ServerFixture.empty();

    TestRepo repo;
    TestServer server;

    @BeforeEach
    void start() throws Exception {
        repo = fixture.repo();
        repo.with(
                        "big.yml",
                        "command: f=$(mktemp); head -c 52428800 /dev/urandom > $f; cat $f; sha256sum < $f >&2; rm $f\n")
                .with("mixed.yml", "command: echo one; sleep 0.1; echo two >&2; sleep 0.1; echo three\n")
                .with("lines.yml", "command: for i in 1 2 3; do echo line $i; sleep 0.3; done\n")
                .with("secret.yml", """
                        command: printf '%s' "$OVERSEER_VAR_token" | cut -c1-4; printf '%s\\n' "$OVERSEER_VAR_token"; printf 'a%sb\\n' {{ token }}
                        vars:
                          - {name: token, secret: true, required: true}
                        """)
                .with("split.yml", """
                        command: printf 'x hun'; sleep 0.3; printf 'ter2 y\\n'
                        vars:
                          - {name: password, secret: true, default: hunter2}
                        """)
                .commit("jobs");
        server = fixture.server();
    }

    @Test
    void fiftyMegabytesAreCapturedByteForByte() throws Exception {
        server.trigger("big", "{}");
        assertThat(server.awaitFinished("big", 1).get("status").asText()).isEqualTo("complete");
        HttpClient client = HttpClient.newHttpClient();
        HttpResponse<InputStream> stdout = client.send(
                HttpRequest.newBuilder(server.uri("/jobs/big/1/stdout")).build(),
                HttpResponse.BodyHandlers.ofInputStream());
        assertThat(stdout.headers().firstValueAsLong("Content-Length")).hasValue(52_428_800);
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        long total = 0;
        try (InputStream in = stdout.body()) {
            byte[] buffer = new byte[65536];
            int n;
            while ((n = in.read(buffer)) > 0) {
                sha.update(buffer, 0, n);
                total += n;
            }
        }
        assertThat(total).isEqualTo(52_428_800);
        // stderr holds the job's own checksum of what it wrote.
        assertThat(server.get("/jobs/big/1/stderr").body())
                .isEqualTo(HexFormat.of().formatHex(sha.digest()) + "  -\n");
    }

    @Test
    void outputInterleavesBothStreamsInOrder() throws Exception {
        server.trigger("mixed", "{}");
        server.awaitFinished("mixed", 1);
        assertThat(server.get("/jobs/mixed/1/output").body()).isEqualTo("one\ntwo\nthree\n");
        HttpResponse<String> middle = server.send(
                HttpRequest.newBuilder(server.uri("/jobs/mixed/1/output")).header("Range", "bytes=2-9"));
        assertThat(middle.statusCode()).isEqualTo(206);
        assertThat(middle.body()).isEqualTo("e\ntwo\nth");
        assertThat(middle.headers().firstValue("Content-Range")).contains("bytes 2-9/14");
    }

    @Test
    void rangesAreHonoured() throws Exception {
        server.trigger("secret", "{\"token\": \"abcdefgh\"}");
        server.awaitFinished("secret", 1);
        String full = server.get("/jobs/secret/1/stdout").body();
        HttpResponse<String> part = server.send(
                HttpRequest.newBuilder(server.uri("/jobs/secret/1/stdout")).header("Range", "bytes=2-5"));
        assertThat(part.statusCode()).isEqualTo(206);
        assertThat(part.body()).isEqualTo(full.substring(2, 6));
        assertThat(part.headers().firstValue("Content-Range")).contains("bytes 2-5/" + full.length());
        HttpResponse<String> tail = server.send(
                HttpRequest.newBuilder(server.uri("/jobs/secret/1/stdout")).header("Range", "bytes=-3"));
        assertThat(tail.body()).isEqualTo(full.substring(full.length() - 3));
        HttpResponse<String> beyond = server.send(
                HttpRequest.newBuilder(server.uri("/jobs/secret/1/stdout")).header("Range", "bytes=999-"));
        assertThat(beyond.statusCode()).isEqualTo(416);
    }

    @Test
    void followDeliversLinesWhileTheJobRuns() throws Exception {
        server.trigger("lines", "{}");
        HttpResponse<InputStream> response = HttpClient.newHttpClient()
                .send(
                        HttpRequest.newBuilder(server.uri("/jobs/lines/1/output?follow=1"))
                                .build(),
                        HttpResponse.BodyHandlers.ofInputStream());
        assertThat(response.statusCode()).isEqualTo(200);
        List<String> lines = new ArrayList<>();
        List<Boolean> runningWhenRead = new ArrayList<>();
        try (BufferedReader reader =
                new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = reader.readLine()) != null) {
                lines.add(line);
                runningWhenRead.add(
                        server.json("/jobs/lines/1").get("finished_at").isNull());
            }
        }
        assertThat(lines).containsExactly("line 1", "line 2", "line 3");
        assertThat(runningWhenRead.getFirst()).isTrue();
        assertThat(server.json("/jobs/lines/1").get("status").asText()).isEqualTo("complete");
    }

    @Test
    void secretsAreMaskedInOutputParamsAndTheRenderedCommand() throws Exception {
        var e = server.trigger("secret", "{\"token\": \"s3cr3t-value\"}");
        assertThat(e.get("params").get("token").asText()).isEqualTo("***");
        assertThat(e.get("rendered").asText()).doesNotContain("s3cr3t").contains("'***'");
        server.awaitFinished("secret", 1);
        String out = server.get("/jobs/secret/1/output").body();
        // The first four characters alone are not the secret and stay; every whole occurrence goes.
        assertThat(out).isEqualTo("s3cr\n***\na***b\n");
        assertThat(server.get("/jobs/secret/1").body()).doesNotContain("s3cr3t-value");
    }

    @Test
    void aSecretSplitAcrossTwoWritesIsStillMasked() throws Exception {
        server.trigger("split", "{}");
        server.awaitFinished("split", 1);
        assertThat(server.get("/jobs/split/1/stdout").body()).isEqualTo("x *** y\n");
    }
}
