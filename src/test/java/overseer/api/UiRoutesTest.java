package overseer.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import overseer.testing.ServerFixture;
import overseer.testing.TestRepo;
import overseer.testing.TestServer;

/** What the web UI stands on: its files, GET /me, GET /executions with its cursor, and the headers. */
class UiRoutesTest {
    @RegisterExtension
    final ServerFixture fixture = ServerFixture.empty();

    @Test
    void servesTheUiAndListsRecentExecutionsOfAllJobsPageByPage() throws Exception {
        TestRepo repo = fixture.repo();
        repo.with("a.yml", "command: \"true\"\n")
                .with("b.yml", "command: exit 3\n")
                .commit("jobs");
        TestServer server = fixture.server();
        HttpResponse<String> root = server.get("/");
        assertThat(root.statusCode()).isEqualTo(302);
        assertThat(root.headers().firstValue("Location")).hasValue("/ui/");
        HttpResponse<String> index = server.get("/ui/");
        assertThat(index.statusCode()).isEqualTo(200);
        assertThat(index.headers().firstValue("Content-Type").orElse("")).startsWith("text/html");
        assertThat(index.body()).contains("<script type=\"module\" src=\"app.js\">");
        assertThat(index.headers().firstValue("Content-Security-Policy").orElse(""))
                .contains("script-src 'self'")
                .doesNotContain("unsafe-inline");
        assertThat(index.headers().firstValue("X-Content-Type-Options")).hasValue("nosniff");
        assertThat(index.headers().firstValue("Referrer-Policy")).hasValue("no-referrer");
        assertThat(server.get("/ui/app.js").headers().firstValue("Content-Type").orElse(""))
                .startsWith("text/javascript");
        assertThat(server.get("/ui/..%2Fapp.js").statusCode()).isEqualTo(404);
        assertThat(server.get("/ui/nothing.js").statusCode()).isEqualTo(404);

        JsonNode me = server.json("/me");
        assertThat(me.path("role").asText()).isEqualTo("admin");
        assertThat(me.path("tokens").asBoolean()).isFalse();

        for (int i = 1; i <= 3; i++) {
            server.trigger("a", "{}");
            server.awaitFinished("a", i);
            server.trigger("b", "{}");
            server.awaitFinished("b", i);
        }
        List<String> seen = new ArrayList<>();
        String next = "/executions?limit=4";
        while (next != null) {
            HttpResponse<String> page = server.get(next);
            assertThat(page.statusCode()).isEqualTo(200);
            TestServer.parse(page.body())
                    .forEach(e -> seen.add(
                            e.path("job").asText() + "/" + e.path("execution").asText()));
            next = page.headers()
                    .firstValue("Link")
                    .map(l -> l.substring(l.indexOf('<') + 1, l.indexOf('>')))
                    .orElse(null);
        }
        assertThat(seen).containsExactly("b/3", "a/3", "b/2", "a/2", "b/1", "a/1");
        assertThat(server.json("/executions?status=fail"))
                .extracting(e -> e.path("job").asText())
                .containsExactly("b", "b", "b");
        assertThat(server.json("/executions?trigger=api")).hasSize(6);
        assertThat(server.json("/executions?trigger=schedule")).isEmpty();
        assertThat(server.get("/executions?before=nonsense").statusCode()).isEqualTo(400);
    }
}
