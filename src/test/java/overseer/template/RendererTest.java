package overseer.template;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import overseer.job.Action;
import overseer.job.VarSpec;
import overseer.job.VarType;

class RendererTest {
    private final Renderer renderer = new Renderer(new ObjectMapper());
    private final Renderer.Builtins builtins = new Renderer.Builtins("deploy", 7, "abc123");

    static VarSpec var(String name, VarType type, boolean option, boolean secret) {
        return new VarSpec(name, type, option, List.of(), false, Optional.empty(), secret);
    }

    private String command(String template, List<VarSpec> vars, Map<String, Object> values) throws Exception {
        Rendered r = renderer.render(new Action.Command(template), vars, values, builtins, "/s");
        assertThat(r.argv().subList(0, 2)).containsExactly("/bin/sh", "-c");
        return r.argv().get(2);
    }

    @Test
    void quotesValuesSoTheyStayData() throws Exception {
        var vars = List.of(var("target", VarType.STR, false, false));
        assertThat(command("echo {{ target }}", vars, Map.of("target", "$(touch /tmp/x); rm -rf ~")))
                .isEqualTo("echo '$(touch /tmp/x); rm -rf ~'");
        assertThat(command("echo {{ target }}", vars, Map.of("target", "it's"))).isEqualTo("echo 'it'\\''s'");
        assertThat(command("echo {{ target }}", vars, Map.of("target", "plain-word_1.2")))
                .isEqualTo("echo plain-word_1.2");
        assertThat(command("echo {{ target | upper }}", vars, Map.of("target", "a b")))
                .isEqualTo("echo 'A B'");
        assertThat(command("{{ target | raw }}", vars, Map.of("target", "echo a | wc -c")))
                .isEqualTo("echo a | wc -c");
    }

    @Test
    void rendersListsAsWordsAndMapsAsOneJsonWord() throws Exception {
        var vars = List.of(
                var("hosts", VarType.SEQ, false, false),
                var("labels", VarType.MAP, false, false),
                var("pairs", VarType.PAIRS, false, false));
        Map<String, Object> values = new LinkedHashMap<>();
        values.put("hosts", List.of("a b", "c"));
        values.put("labels", Map.of("k", "v w"));
        values.put("pairs", List.of(Map.of("x", 1), Map.of("y", 2)));
        assertThat(command("run {{ hosts }} {{ labels }} {{ pairs }}", vars, values))
                .isEqualTo("run 'a b' c '{\"k\":\"v w\"}' '[{\"x\":1},{\"y\":2}]'");
    }

    @Test
    void appendsUnreferencedVarsInDeclarationOrder() throws Exception {
        var vars = List.of(
                var("env", VarType.STR, false, false),
                var("force", VarType.BOOL, true, false),
                var("dry", VarType.BOOL, true, false),
                var("count", VarType.INT, true, false),
                var("name", VarType.STR, false, false),
                var("unset", VarType.STR, false, false));
        Map<String, Object> values = new LinkedHashMap<>();
        values.put("env", "prod");
        values.put("force", true);
        values.put("dry", false);
        values.put("count", 3);
        values.put("name", "x y");
        assertThat(command("deploy {{ job }} {{ execution }} {{ commit }} {{ env }}", vars, values))
                .isEqualTo("deploy deploy 7 abc123 prod --force --count 3 'x y'");
    }

    @Test
    void aTemplateWithoutTagsIsItselfAndStillGetsItsVarsAppended() throws Exception {
        var vars = List.of(var("level", VarType.INT, true, false));
        assertThat(Renderer.isPlain("make backup\n")).isTrue();
        assertThat(command("make backup\n\n", List.of(), Map.of())).isEqualTo("make backup\n\n");
        assertThat(command("make  backup", vars, Map.of("level", 9))).isEqualTo("make  backup --level 9");
        // Each kind of tag still goes through Jinjava.
        assertThat(Renderer.isPlain("a {# note #}")).isFalse();
        assertThat(command("make {# a comment #}backup", List.of(), Map.of())).isEqualTo("make backup");
        assertThat(command("{% if true %}make{% endif %} {{ job }}", List.of(), Map.of()))
                .isEqualTo("make deploy");
    }

    @Test
    void scriptArgumentsAreArgvWordsWithoutQuoting() throws Exception {
        var vars = List.of(var("files", VarType.SEQ, false, false), var("msg", VarType.STR, true, false));
        Rendered r = renderer.render(
                new Action.Script("run.sh", List.of("--files", "{{ files }}")),
                vars,
                Map.of("files", List.of("a b", "c"), "msg", "it's $HOME"),
                builtins,
                "/checkout/scripts");
        assertThat(r.argv()).containsExactly("/checkout/scripts/run.sh", "--files", "a b", "c", "--msg", "it's $HOME");
        assertThat(r.display()).isEqualTo("scripts/run.sh --files 'a b' c --msg 'it'\\''s $HOME'");
    }

    @Test
    void secretsAreMaskedInTheDisplayedCommandOnly() throws Exception {
        var vars = List.of(var("password", VarType.STR, false, true), var("user", VarType.STR, true, false));
        Rendered r = renderer.render(
                new Action.Command("login {{ password }}"),
                vars,
                Map.of("password", "hunter2", "user", "bob"),
                builtins,
                "/s");
        assertThat(r.argv().get(2)).isEqualTo("login hunter2 --user bob");
        assertThat(r.display()).isEqualTo("login '***' --user bob");
    }

    @Test
    void findsSyntaxErrorsAndUnknownFilters() {
        var vars = List.of(var("name", VarType.STR, false, false));
        assertThat(renderer.problems("echo {{ name | upper }}", vars)).isEmpty();
        assertThat(renderer.problems("echo {% if name %} open", vars))
                .singleElement()
                .asString()
                .contains("template line 1")
                .contains("endif");
        assertThat(renderer.problems("echo {{ name | nosuchfilter }}", vars))
                .containsExactly("template uses the unknown filter 'nosuchfilter'");
    }

    @Test
    void templatesCannotIncludeFiles() {
        assertThatThrownBy(() -> command("{% include '/etc/passwd' %}", List.of(), Map.of()))
                .isInstanceOf(RenderException.class);
    }

    @Test
    void saysWhetherTheRenderDependsOnTheExecutionNumber() throws Exception {
        assertThat(renderer.render(new Action.Command("echo {{ execution }}"), List.of(), Map.of(), builtins, "/s")
                        .usesNumber())
                .isTrue();
        assertThat(renderer.render(
                                new Action.Command("echo {{ job }} {{ commit }}"), List.of(), Map.of(), builtins, "/s")
                        .usesNumber())
                .isFalse();
    }

    @Test
    void aBlockCommandGetsItsVarsAppendedToItsLastCommandNotOnANewLine() throws Exception {
        var vars = List.of(var("target", VarType.STR, false, false));
        // Before the fix: "echo hi\n id", and the shell ran `id` as a second command.
        assertThat(command("cd /\necho hi\n", vars, Map.of("target", "id"))).isEqualTo("cd /\necho hi id");
        assertThat(command("echo hi  \n\n", vars, Map.of("target", "a b"))).isEqualTo("echo hi 'a b'");
    }

    @Test
    void appendingWhereANewCommandWouldStartIsRefused() {
        var vars = List.of(var("target", VarType.STR, false, false));
        for (String template : List.of(
                "make;", "make &&", "make |", "X=1", "if true; then", "make # note", "cat <<EOF\nbody\nEOF\n")) {
            assertThatThrownBy(() -> command(template, vars, Map.of("target", "id")))
                    .as(template)
                    .isInstanceOf(RenderException.class)
                    .hasMessageContaining("target");
        }
    }

    @Test
    void insideDoubleQuotesAValueIsEscapedForDoubleQuotes() throws Exception {
        var vars = List.of(var("msg", VarType.STR, false, false));
        // Before the fix: echo "msg: '$(touch /tmp/x)'", and the shell ran touch.
        assertThat(command("echo \"msg: {{ msg }}\"", vars, Map.of("msg", "$(touch /tmp/x) `id` \\ \" 'q'")))
                .isEqualTo("echo \"msg: \\$(touch /tmp/x) \\`id\\` \\\\ \\\" 'q'\"");
        assertThat(command("echo '{{ msg }}'", vars, Map.of("msg", "it's; id"))).isEqualTo("echo 'it'\\''s; id'");
        assertThat(command("echo \"$(echo {{ msg }})\"", vars, Map.of("msg", "a; id")))
                .isEqualTo("echo \"$(echo 'a; id')\"");
    }

    @Test
    void printAndEveryOtherOutputPathIsQuotedToo() throws Exception {
        var vars = List.of(var("msg", VarType.STR, false, false), var("list", VarType.SEQ, false, false));
        Map<String, Object> values = Map.of("msg", "$(id)", "list", List.of("a;b", "c"));
        // Before the fix: {% print %} wrote $(id) as it is.
        assertThat(command("{% print msg %} {{ list }}", vars, values)).isEqualTo("'$(id)' 'a;b' c");
        assertThat(command("{{ msg ~ '!' }} {{ list | join(' ') }}", vars, values))
                .isEqualTo("'$(id)!' 'a;b c'");
        assertThat(command("{% macro m(v) %}<{{ v }}>{% endmacro %}{{ m(msg) }}", vars, values))
                .isEqualTo("'<$(id)>' 'a;b' c");
        assertThat(command("{% set s %}x {{ msg }}{% endset %}{{ s }}", vars, values))
                .isEqualTo("'x $(id)' 'a;b' c");
        assertThat(command("{% print msg | raw %}", vars, values)).isEqualTo("$(id) 'a;b' c");
    }

    @Test
    void contextsThatCannotBeQuotedAreRefused() {
        var vars = List.of(var("msg", VarType.STR, false, false));
        for (String template : List.of("echo `echo {{ msg }}`", "echo ${X:-{{ msg }}}", "echo $(( {{ msg }} ))")) {
            assertThatThrownBy(() -> command(template, vars, Map.of("msg", "1")))
                    .as(template)
                    .isInstanceOf(RenderException.class)
                    .hasMessageContaining("{{ }}");
        }
        assertThatThrownBy(() -> command("cat <<EOF\n{{ msg }}\nEOF", vars, Map.of("msg", "a\nEOF\nid")))
                .isInstanceOf(RenderException.class);
        assertThatThrownBy(() -> command("echo {{ msg }}", vars, Map.of("msg", "a\0b")))
                .isInstanceOf(RenderException.class)
                .hasMessageContaining("NUL");
    }

    @Test
    void aVarWithAppendFalseStaysOutOfTheArguments() throws Exception {
        var vars = List.of(
                new VarSpec("quiet", VarType.STR, false, List.of(), false, Optional.empty(), false, false),
                var("loud", VarType.STR, false, false));
        assertThat(command("echo", vars, Map.of("quiet", "q", "loud", "l"))).isEqualTo("echo l");
    }

    @Test
    void aLoopOfABillionStepsIsStoppedEarly() {
        var vars = List.of(var("msg", VarType.STR, false, false));
        String loop = "{% for a in range(1000) %}{% for b in range(1000) %}{% for c in range(1000) %}"
                + "{% endfor %}{% endfor %}{% endfor %}";
        // The message names the step limit, which is what ends it (a billion steps would run for minutes).
        assertThatThrownBy(() -> command(loop, vars, Map.of()))
                .isInstanceOf(RenderException.class)
                .hasMessageContaining("steps");
        assertThat(renderer.problems(loop, vars)).singleElement().asString().contains("steps");
    }
}
