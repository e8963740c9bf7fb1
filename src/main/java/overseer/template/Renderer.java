package overseer.template;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.interpret.Context;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.expression.ExpressionStrategy;
import com.hubspot.jinjava.tree.output.RenderedOutputNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import overseer.job.Action;
import overseer.job.JobParser;
import overseer.job.VarSpec;
import overseer.job.VarType;

/**
 * Renders a job's command or script arguments with Jinjava. Every printed value is quoted for the
 * shell context it lands in ({@link ShellText}), or for a script kept as separate argv words,
 * unless it went through {@code | raw}; declared vars that the template never references are
 * appended to its last command. Thread-safe.
 */
public final class Renderer implements JobParser.TemplateCheck {
    /** The names every template can use besides the job's vars. */
    public record Builtins(String job, long execution, String commit) {}

    private static final int MAX_OUTPUT = 256 * 1024;
    /** Separates argv words inside one rendered script argument; exec cannot pass NUL anyway. */
    private static final char WORD_BREAK = '\0';

    private static final String TOO_MANY_STEPS =
            "the template takes more than " + Printer.MAX_STEPS + " loop steps; loop over less";

    private final Jinjava jinjava;
    /** Marker nonces: unguessable, so that no value can forge a marker of its rendering. */
    private final java.security.SecureRandom nonces = new java.security.SecureRandom();

    private final ValueText text;

    public Renderer(ObjectMapper json) {
        this.text = new ValueText(json);
        this.jinjava = new Jinjava(JinjavaConfig.newBuilder()
                .withMaxOutputSize(MAX_OUTPUT)
                .withMaxRenderDepth(10)
                .withMaxMacroRecursionDepth(10)
                .build());
        // Templates come from the repository: they may not read files or classpath resources.
        jinjava.setResourceLocator((name, encoding, interpreter) -> {
            throw new IOException("templates cannot include other files");
        });
        jinjava.getGlobalContext().registerFilter(new RawFilter(text));
        jinjava.getGlobalContext().registerTag(new QuotedPrintTag());
        jinjava.getGlobalContext().registerTag(new CountedForTag());
    }

    public Rendered render(
            Action action, List<VarSpec> vars, Map<String, Object> values, Builtins builtins, String scriptsDir)
            throws RenderException {
        refuseNul(vars, values);
        Map<String, Object> masked = new LinkedHashMap<>(values);
        for (VarSpec v : vars) {
            if (v.secret() && values.get(v.name()) != null) {
                masked.put(v.name(), "***");
            }
        }
        Set<String> used = new HashSet<>();
        return switch (action) {
            case Action.Command c -> {
                String command = shell(c.template(), vars, values, builtins, used);
                String display = shell(c.template(), vars, masked, builtins, used);
                yield new Rendered(List.of("/bin/sh", "-c", command), display, used.contains("execution"));
            }
            case Action.Script s -> {
                List<String> argv = new ArrayList<>();
                argv.add(scriptsDir + "/" + s.path());
                argv.addAll(arguments(s.arguments(), vars, values, builtins, used));
                List<String> display = new ArrayList<>();
                display.add("scripts/" + s.path());
                display.addAll(arguments(s.arguments(), vars, masked, builtins, used));
                yield new Rendered(
                        argv,
                        display.stream().map(ShellWords::quote).collect(Collectors.joining(" ")),
                        used.contains("execution"));
            }
            case Action.Nothing n -> new Rendered(List.of(), "", false);
        };
    }

    /** A value as one piece of text, the way {@code OVERSEER_VAR_<name>} carries it. */
    public String text(Object value) {
        return text.plain(value);
    }

    /** The texts a secret value can appear as in output: the whole value and each item of a list. */
    public List<String> secretTexts(Object value) {
        List<String> texts = new ArrayList<>(text.words(value));
        texts.add(text.plain(value));
        return texts.stream().distinct().toList();
    }

    /** Exec takes C strings: a NUL would cut an argument short or split one word into two. */
    private void refuseNul(List<VarSpec> vars, Map<String, Object> values) throws RenderException {
        for (VarSpec v : vars) {
            Object value = values.get(v.name());
            if (value != null
                    && (text.plain(value).indexOf('\0') >= 0
                            || text.words(value).stream().anyMatch(w -> w.indexOf('\0') >= 0))) {
                throw new RenderException(
                        "var '" + v.name() + "' holds a NUL character, which no command line can carry");
            }
        }
    }

    private String shell(
            String template, List<VarSpec> vars, Map<String, Object> values, Builtins builtins, Set<String> used)
            throws RenderException {
        Output out = run(template, values, builtins);
        used.addAll(out.referenced());
        List<String> appended = appended(vars, values, out.referenced());
        return bounded(command(out, vars, appended).text());
    }

    /**
     * Jinjava's output limit sees only the markers that stand for values; the command with the
     * values quoted in is held to the same limit.
     */
    private static String bounded(String rendered) throws RenderException {
        if (rendered.length() > MAX_OUTPUT) {
            throw new RenderException("the rendered command is longer than " + MAX_OUTPUT + " characters");
        }
        return rendered;
    }

    /**
     * The command with its values quoted for their contexts, and the appended words quoted on the
     * same line as its last command — never on a line of their own, where they would run.
     */
    private static ShellText.Scan command(Output out, List<VarSpec> vars, List<String> appended)
            throws RenderException {
        if (appended.isEmpty()) {
            return ShellText.scan(out.text(), out.outputs());
        }
        ShellText.Scan scan = ShellText.scan(out.text().stripTrailing(), out.outputs());
        if (scan.notAppendable().isPresent()) {
            throw new RenderException("cannot append " + appendedNames(vars, out.referenced()) + ": "
                    + scan.notAppendable().get()
                    + "; mention them in the template ({{ name }}) or set 'append: false'");
        }
        StringBuilder command = new StringBuilder(scan.text());
        for (String word : appended) {
            command.append(' ').append(ShellWords.quote(word));
        }
        return new ShellText.Scan(command.toString(), Optional.empty(), scan.doubleQuoted());
    }

    private static String appendedNames(List<VarSpec> vars, Set<String> referenced) {
        return vars.stream()
                .filter(v -> v.append() && !referenced.contains(v.name()))
                .map(v -> "var '" + v.name() + "'")
                .collect(Collectors.joining(", "));
    }

    private List<String> arguments(
            List<String> templates, List<VarSpec> vars, Map<String, Object> values, Builtins builtins, Set<String> used)
            throws RenderException {
        List<String> argv = new ArrayList<>();
        Set<String> referenced = new HashSet<>();
        for (String template : templates) {
            Output out = run(template, values, builtins);
            referenced.addAll(out.referenced());
            used.addAll(out.referenced());
            String words = out.outputs().replace(out.text(), p -> String.join(String.valueOf(WORD_BREAK), p.words()));
            for (String word : words.split(String.valueOf(WORD_BREAK), -1)) {
                argv.add(word);
            }
        }
        argv.addAll(appended(vars, values, referenced));
        bounded(String.join(" ", argv));
        return argv;
    }

    /** The words for vars with a value that no template referenced, in declaration order. */
    private List<String> appended(List<VarSpec> vars, Map<String, Object> values, Set<String> referenced) {
        List<String> words = new ArrayList<>();
        for (VarSpec v : vars) {
            Object value = values.get(v.name());
            if (!v.append() || referenced.contains(v.name()) || value == null) {
                continue;
            }
            if (v.option() && v.type() == VarType.BOOL) {
                if (Boolean.TRUE.equals(value)) {
                    words.add("--" + v.name());
                }
                continue;
            }
            if (v.option()) {
                words.add("--" + v.name());
            }
            words.addAll(text.words(value));
        }
        return words;
    }

    private record Output(
            String text,
            Set<String> referenced,
            List<TemplateError> errors,
            Set<String> filters,
            Outputs outputs,
            boolean tooManySteps) {}

    private Output run(String template, Map<String, Object> values, Builtins builtins) throws RenderException {
        Output out = evaluate(template, values, builtins);
        if (out.tooManySteps()) {
            throw new RenderException(TOO_MANY_STEPS);
        }
        for (TemplateError e : out.errors()) {
            if (e.getSeverity() != TemplateError.ErrorType.WARNING
                    || e.getReason() == TemplateError.ErrorReason.OUTPUT_TOO_BIG) {
                throw new RenderException("line " + e.getLineno() + ": " + e.getMessage());
            }
        }
        return out;
    }

    private Output evaluate(String template, Map<String, Object> values, Builtins builtins) throws RenderException {
        Outputs outputs = new Outputs(nonces.nextLong());
        if (isPlain(template)) {
            // Jinjava renders text without a tag as itself; building an interpreter for it was a
            // measurable part of every trigger of a job like `command: make backup`.
            return new Output(template, Set.of(), List.of(), Set.of(), outputs, false);
        }
        Map<String, Object> bindings = new LinkedHashMap<>(values);
        bindings.put("job", builtins.job());
        bindings.put("execution", builtins.execution());
        bindings.put("commit", builtins.commit());
        Context context = new Context(jinjava.getGlobalContext(), bindings);
        Printer printer = new Printer(outputs, text);
        context.put(Printer.KEY, printer);
        context.setExpressionStrategy(STRATEGY);
        JinjavaInterpreter interpreter = new JinjavaInterpreter(jinjava, context, jinjava.getGlobalConfig());
        JinjavaInterpreter.pushCurrent(interpreter);
        try {
            String rendered = interpreter.render(template);
            Set<String> filters = new HashSet<>();
            Set<String> names = new HashSet<>();
            for (String resolved : context.getResolvedValues()) {
                if (resolved.startsWith("filter:")) {
                    filters.add(resolved.substring("filter:".length()));
                } else {
                    names.add(resolved);
                }
            }
            names.remove(Printer.KEY);
            return new Output(rendered, names, interpreter.getErrorsCopy(), filters, outputs, printer.exceeded());
        } catch (RuntimeException e) {
            // Jinjava reports some failures (an include, a sandbox violation) by throwing.
            throw new RenderException(e.getMessage());
        } finally {
            JinjavaInterpreter.popCurrent();
        }
    }

    /** True when {@code template} has no expression, statement or comment tag. */
    static boolean isPlain(String template) {
        return !template.contains("{{") && !template.contains("{%") && !template.contains("{#");
    }

    /** Every {@code {{ }}} goes out through the rendering's {@link Printer}. */
    private static final ExpressionStrategy STRATEGY = (token, interpreter) -> {
        Object value = interpreter.resolveELExpression(token.getExpr(), token.getLineNumber());
        return new RenderedOutputNode(
                Printer.of(interpreter).print(value, token.getLineNumber(), token.getStartPosition()));
    };

    /**
     * Problems of a template found without running it: syntax errors and unknown filters, found by
     * rendering it once with a sample value of each declared var.
     */
    @Override
    public List<String> problems(String template, List<VarSpec> vars) {
        return check(template, vars, false);
    }

    /** Also what the shell context refuses: a value where no quoting is safe, an unsafe append. */
    @Override
    public List<String> commandProblems(String template, List<VarSpec> vars) {
        return check(template, vars, true);
    }

    private List<String> check(String template, List<VarSpec> vars, boolean shell) {
        Map<String, Object> samples = new LinkedHashMap<>();
        for (VarSpec v : vars) {
            samples.put(v.name(), sample(v));
        }
        Output out;
        try {
            out = evaluate(template, samples, new Builtins("job", 1, "0".repeat(40)));
        } catch (RenderException e) {
            return List.of("template: " + e.getMessage());
        }
        List<String> problems = new ArrayList<>();
        if (out.tooManySteps()) {
            problems.add("template: " + TOO_MANY_STEPS);
        }
        if (shell) {
            try {
                command(out, vars, appended(vars, samples, out.referenced()));
            } catch (RenderException e) {
                problems.add("template " + e.getMessage());
            }
        }
        for (TemplateError e : out.errors()) {
            if (e.getSeverity() != TemplateError.ErrorType.WARNING
                    || e.getReason() == TemplateError.ErrorReason.SYNTAX_ERROR) {
                problems.add("template line " + e.getLineno() + ": " + e.getMessage());
            }
        }
        for (String filter : out.filters().stream().sorted().toList()) {
            if (jinjava.getGlobalContext().getFilter(filter) == null) {
                problems.add("template uses the unknown filter '" + filter + "'");
            }
        }
        return problems;
    }

    private static Object sample(VarSpec v) {
        return switch (v.type()) {
            case NULL -> null;
            case BOOL -> true;
            case INT -> 1;
            case FLOAT -> 1.5;
            case BINARY -> "eA==";
            case TIMESTAMP -> "2026-01-01T00:00:00Z";
            case PAIRS, OMAP -> List.of(Map.of("k", "v"));
            case SET, SEQ -> List.of("x");
            case MAP -> Map.of("k", "v");
            case STR -> "x";
            case ENUM -> v.values().isEmpty() ? "x" : v.values().getFirst();
        };
    }
}
