package overseer.template;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import overseer.testing.TestRepo;
import overseer.testing.TestServer;

/**
 * The property SPEC §2 promises: whatever value a caller POSTs, of whatever type, through
 * whatever template form README shows, it reaches the program as data — byte for byte — and is
 * never executed. Every case is a real execution by {@code /bin/sh} through a real server; each
 * hostile value tries to create a canary file.
 */
class HostileValuesTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    TestRepo repo;
    TestServer server;
    Path canary;

    /** How a template uses the var {@code x}, and what the program then prints for its words. */
    enum Form {
        PLAIN("printf '[%s]' {{ x }}"),
        DOUBLE_QUOTED("printf '[%s]' \"{{ x }}\""),
        SINGLE_QUOTED("printf '[%s]' '{{ x }}'"),
        PRINT("printf '[%s]' {% print x %}"),
        MACRO("{% macro m(v) %}{{ v }}{% endmacro %}printf '[%s]' {{ m(x) }}"),
        SET_BLOCK("{% set s %}{{ x }}{% endset %}printf '[%s]' {{ s }}"),
        IN_SUBSTITUTION("printf '[%s]' \"$(printf '%s' {{ x }})\""),
        HEREDOC("cat <<EOF\n[{{ x }}]\nEOF\n"),
        APPENDED("printf '[%s]'"),
        APPENDED_OPTION("printf '[%s]'"),
        BLOCK("{% if true %}: first line{% endif %}\nprintf '[%s]'\n"),
        SCRIPT_ARGUMENT("show {{ x }}"),
        SCRIPT_APPENDED("show");

        final String template;

        Form(String template) {
            this.template = template;
        }

        boolean script() {
            return this == SCRIPT_ARGUMENT || this == SCRIPT_APPENDED;
        }

        /** Forms that make the value one piece of text, its words joined by blanks. */
        boolean joined() {
            return switch (this) {
                case DOUBLE_QUOTED, SINGLE_QUOTED, MACRO, SET_BLOCK, IN_SUBSTITUTION, HEREDOC -> true;
                default -> false;
            };
        }

        String expected(List<String> words, boolean option) {
            if (this == HEREDOC) {
                return "[" + String.join(" ", words) + "]\n";
            }
            if (this == IN_SUBSTITUTION) {
                // $( ) drops trailing newlines, as the shell always does.
                return "[" + String.join("", words).replaceAll("\n+$", "") + "]";
            }
            List<String> args = new ArrayList<>();
            if (option) {
                args.add("--x");
            }
            if (joined()) {
                args.add(String.join(" ", words));
            } else {
                args.addAll(words);
            }
            if (args.isEmpty() && this != SCRIPT_APPENDED) {
                return "[]";
            }
            StringBuilder out = new StringBuilder();
            args.forEach(a -> out.append('[').append(a).append(']'));
            return out.toString();
        }
    }

    private List<String> hostile() {
        String c = canary.toString();
        return List.of(
                "$(touch " + c + ")",
                "`touch " + c + "`",
                "; touch " + c,
                "a\ntouch " + c,
                "'; touch " + c + "; '",
                "\"; touch " + c + "; \"",
                "\\\"$(touch " + c + ")\\\"",
                "x\nEOF\ntouch " + c + "\n#",
                "it's \"quoted\" and \\back\\slashed\\",
                "$HOME ${HOME} $((1+1)) ~ *",
                "#not a comment",
                "\\",
                "",
                " spaced  out ",
                "a\u0000; touch " + c,
                "tab\tand\rreturn",
                "-n");
    }

    @BeforeEach
    void start() throws Exception {
        canary = tmp.resolve("canary");
        repo = TestRepo.create(tmp.resolve("repo"));
        repo.executable("scripts/show", "#!/bin/sh\nfor a in \"$@\"; do printf '[%s]' \"$a\"; done\n");
        server = null;
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
        repo.close();
    }

    /** A declared type, and the values of it the test POSTs (as JSON). */
    private record Case(String type, List<Object> values, List<Object> enumValues) {}

    private List<Case> cases() {
        List<String> h = hostile();
        List<Object> strings = new ArrayList<>(h);
        List<String> noNul = h.stream().filter(s -> !s.contains("\u0000")).toList();
        Map<String, Object> map = new LinkedHashMap<>();
        for (int i = 0; i < noNul.size(); i++) {
            map.put(noNul.get(i) + i, noNul.get((i + 1) % noNul.size()));
        }
        List<Object> pairs = new ArrayList<>();
        for (int i = 0; i < noNul.size(); i++) {
            pairs.add(Map.of(noNul.get(i) + i, noNul.get(i)));
        }
        return List.of(
                new Case("null", List.of(), List.of()),
                new Case("bool", List.of(true, false), List.of()),
                new Case("int", List.of(42, -7), List.of()),
                new Case("float", List.of(1.5), List.of()),
                new Case("binary", List.of("JCh0b3VjaCB4KQ=="), List.of()),
                new Case("timestamp", List.of("2026-01-31T12:00:00Z"), List.of()),
                new Case("pairs", List.of(pairs), List.of()),
                new Case("omap", List.of(pairs), List.of()),
                new Case("set", List.of(noNul, List.of("a\u0000b")), List.of()),
                new Case("str", strings, List.of()),
                new Case("seq", List.of(noNul, List.of(), List.of("a\u0000b")), List.of()),
                new Case("map", List.of(map), List.of()),
                new Case("enum", List.copyOf(noNul.subList(0, 8)), List.copyOf(noNul)));
    }

    @Test
    void everyValueOfEveryTypeThroughEveryFormIsDataByteForByte() throws Exception {
        List<Case> cases = cases();
        for (Case c : cases) {
            for (Form f : Form.values()) {
                repo.with("jobs/" + name(c, f) + ".json", job(c, f));
            }
        }
        repo.commit("every type through every form");
        server = TestServer.on(repo.url(), tmp.resolve("data")).start();
        int runs = 0;
        List<String> failures = new ArrayList<>();
        for (Case c : cases) {
            for (Form f : Form.values()) {
                List<Object> values = c.type().equals("null") ? java.util.Collections.singletonList(null) : c.values();
                for (Object value : values) {
                    try {
                        check(c, f, value);
                    } catch (AssertionError e) {
                        failures.add(e.getMessage().strip().replace("\n", "\\n"));
                        java.nio.file.Files.deleteIfExists(canary);
                    }
                    runs++;
                }
            }
        }
        assertThat(runs).isGreaterThan(300);
        assertThat(failures)
                .as(failures.size() + " of " + runs + " cases failed")
                .isEmpty();
    }

    private void check(Case c, Form f, Object value) throws Exception {
        ObjectNode params = JSON.createObjectNode();
        if (value != null) {
            params.set("x", JSON.valueToTree(value));
        }
        String job = name(c, f);
        String what = job + " with " + JSON.writeValueAsString(value);
        HttpResponse<String> response = server.postJson("/jobs/" + job + "?wait=30", params.toString());
        List<String> words = words(value);
        boolean refusable = words.stream().anyMatch(w -> w.contains("\u0000"))
                || (f == Form.HEREDOC && words.stream().anyMatch(w -> w.contains("\n")));
        if (refusable) {
            assertThat(response.statusCode()).as(what + ": " + response.body()).isEqualTo(400);
            assertThat(canary).as(what).doesNotExist();
            return;
        }
        assertThat(response.statusCode()).as(what + ": " + response.body()).isEqualTo(201);
        JsonNode e = TestServer.parse(response.body());
        long n = e.get("execution").asLong();
        JsonNode done = server.awaitFinished(job, n);
        String stdout = server.get("/jobs/" + job + "/" + n + "/stdout").body();
        assertThat(canary)
                .as(what + " created the canary; rendered " + done.get("rendered"))
                .doesNotExist();
        assertThat(done.get("status").asText())
                .as(what + ": "
                        + server.get("/jobs/" + job + "/" + n + "/output").body())
                .isEqualTo("complete");
        boolean option = f == Form.APPENDED_OPTION;
        if (option && c.type().equals("bool")) {
            assertThat(stdout).as(what).isEqualTo(Boolean.TRUE.equals(value) ? "[--x]" : "[]");
            return;
        }
        assertThat(stdout).as(what).isEqualTo(f.expected(words, option && value != null));
    }

    /** The words SPEC gives a value: a list's items, a map or pairs as one JSON word, else its text. */
    private static List<String> words(Object value) throws Exception {
        if (value == null) {
            return List.of();
        }
        if (value instanceof List<?> list && (list.isEmpty() || !(list.getFirst() instanceof Map))) {
            return list.stream().map(String::valueOf).toList();
        }
        if (value instanceof List<?> || value instanceof Map<?, ?>) {
            return List.of(JSON.writeValueAsString(value));
        }
        return List.of(String.valueOf(value));
    }

    private static String name(Case c, Form f) {
        return c.type() + "-" + f.name().toLowerCase().replace('_', '-');
    }

    private static String job(Case c, Form f) throws Exception {
        ObjectNode job = JSON.createObjectNode();
        job.put(f.script() ? "script" : "command", f.template);
        ArrayNode vars = job.putArray("vars");
        ObjectNode x = vars.addObject().put("name", "x").put("type", c.type());
        if (f == Form.APPENDED_OPTION) {
            x.put("option", true);
        }
        if (!c.enumValues().isEmpty()) {
            x.set("values", JSON.valueToTree(c.enumValues()));
        }
        return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(job);
    }
}
