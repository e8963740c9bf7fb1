package overseer.job;

import com.cronutils.model.Cron;
import com.cronutils.model.CronType;
import com.cronutils.model.definition.CronDefinitionBuilder;
import com.cronutils.parser.CronParser;
import java.math.BigInteger;
import java.net.URI;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Turns the text of a job file (or of {@code overseer.yml}) into validated records, reporting every
 * problem with its position instead of stopping at the first. Safe to share between threads.
 */
public final class JobParser {
    /** Job files larger than this are refused before they are read. */
    public static final long MAX_FILE_BYTES = 1024 * 1024;

    /** The server's own credentials: no hook may sign with them. */
    private static final java.util.Set<String> SERVER_CREDENTIALS =
            java.util.Set.of("OVERSEER_STORE_PASSWORD", "OVERSEER_GIT_TOKEN");

    private static final List<String> JOB_KEYS = List.of(
            "command",
            "script",
            "timeout",
            "vars",
            "schedule",
            "description",
            "env",
            "concurrency",
            "overlap",
            "hooks",
            "retry",
            "append_vars",
            "streams",
            "nodes");
    private static final List<String> VAR_KEYS =
            List.of("name", "type", "option", "values", "required", "default", "secret", "append");
    private static final List<String> SCHEDULE_KEYS =
            List.of("frequency", "time", "priority", "timezone", "vars", "catchup", "misfire_grace");
    private static final List<String> HOOK_KEYS = List.of("url", "events", "secret");
    private static final List<String> RETRY_KEYS = List.of("times", "delay", "backoff", "on");
    private static final List<String> SETTINGS_KEYS = List.of("hooks", "defaults");
    private static final List<String> DEFAULTS_KEYS = List.of("timeout", "env");
    private static final Pattern NUMBER = Pattern.compile("\\d+(\\.\\d+)?");
    private static final long MAX_SECONDS = 100L * 36525 * 24 * 36;
    private static final Pattern BLANKS = Pattern.compile("\\s+");
    private static final int CRON_CACHE_LIMIT = 10_000;
    private static final ZoneId UTC = ZoneId.of("UTC");
    private static final Set<String> RESERVED_VAR_NAMES = Set.of("job", "execution", "commit");
    private static final Pattern VAR_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,127}");
    private static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
    private static final Pattern EVENT_NAME = Pattern.compile("[a-z0-9][a-z0-9_.-]*|\\*");
    private static final Pattern SECRET_REFERENCE = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)}");
    private static final Map<String, String> CRON_MACROS = Map.ofEntries(
            Map.entry("@yearly", "0 0 1 1 *"),
            Map.entry("@annually", "0 0 1 1 *"),
            Map.entry("@monthly", "0 0 1 * *"),
            Map.entry("@weekly", "0 0 * * 0"),
            Map.entry("@daily", "0 0 * * *"),
            Map.entry("@midnight", "0 0 * * *"),
            Map.entry("@hourly", "0 * * * *"));

    /** Tells whether a {@code script:} path names an executable file under scripts/; empty when fine. */
    @FunctionalInterface
    public interface ScriptCheck {
        Optional<String> problem(String path);
    }

    /** Finds what is wrong with a command or argument template (syntax, unknown filters); empty when fine. */
    @FunctionalInterface
    public interface TemplateCheck {
        List<String> problems(String template, List<VarSpec> vars);

        /** The problems of a {@code command} template, which the shell reads: by default the same. */
        default List<String> commandProblems(String template, List<VarSpec> vars) {
            return problems(template, vars);
        }
    }

    public record Result(Optional<JobDefinition> job, List<Problem> problems) {
        public Result {
            problems = List.copyOf(problems);
        }
    }

    public record SettingsResult(RepoSettings settings, List<Problem> problems) {
        public SettingsResult {
            problems = List.copyOf(problems);
        }
    }

    /** Repositories repeat the same few expressions, and cron-utils parsing is slow. Cron is immutable. */
    private final Map<String, Cron> parsedCrons = new java.util.concurrent.ConcurrentHashMap<>();

    private final TemplateCheck templates;

    public JobParser(TemplateCheck templates) {
        this.templates = templates;
    }

    private final CronParser unixCron = new CronParser(CronDefinitionBuilder.instanceDefinitionFor(CronType.UNIX));
    private final CronParser springCron =
            new CronParser(CronDefinitionBuilder.instanceDefinitionFor(CronType.SPRING53));
    private final CronParser quartzCron = new CronParser(CronDefinitionBuilder.instanceDefinitionFor(CronType.QUARTZ));

    /** Reads a YAML or JSON document (chosen by the file's extension) into a tree. */
    public static Node read(String file, String text) throws DocumentException {
        return file.endsWith(".json") ? new JsonReader().read(text) : new YamlReader().read(text);
    }

    public Result parseJob(String file, JobName name, String text, ScriptCheck scripts, RepoSettings settings) {
        Problems problems = new Problems(file);
        Node root;
        try {
            root = read(file, text);
        } catch (DocumentException e) {
            problems.add(e.position(), e.getMessage());
            return new Result(Optional.empty(), problems.list);
        }
        if (root instanceof Node.Sequence seq) {
            if (seq.items().size() != 1 || !(seq.items().getFirst() instanceof Node.Mapping)) {
                problems.add(
                        seq.position(),
                        "a job file in list form holds exactly one mapping, found "
                                + seq.items().size() + " item(s)");
                return new Result(Optional.empty(), problems.list);
            }
            root = seq.items().getFirst();
        }
        if (!(root instanceof Node.Mapping mapping)) {
            problems.add(root.position(), "a job file holds a mapping of job keys, not " + root.kind());
            return new Result(Optional.empty(), problems.list);
        }
        JobDefinition job =
                job(problems, file, name, new Fields(problems, mapping, JOB_KEYS, "job key"), scripts, settings);
        return new Result(problems.list.isEmpty() ? Optional.of(job) : Optional.empty(), problems.list);
    }

    public SettingsResult parseSettings(String file, String text) {
        Problems problems = new Problems(file);
        Node root;
        try {
            root = read(file, text);
        } catch (DocumentException e) {
            problems.add(e.position(), e.getMessage());
            return new SettingsResult(RepoSettings.NONE, problems.list);
        }
        if (root instanceof Node.Null) {
            return new SettingsResult(RepoSettings.NONE, problems.list);
        }
        if (!(root instanceof Node.Mapping mapping)) {
            problems.add(root.position(), "overseer.yml holds a mapping, not " + root.kind());
            return new SettingsResult(RepoSettings.NONE, problems.list);
        }
        Fields fields = new Fields(problems, mapping, SETTINGS_KEYS, "key");
        List<HookSpec> hooks = fields.get("hooks").map(n -> hooks(problems, n)).orElse(List.of());
        Optional<Duration> timeout = Optional.empty();
        Map<String, String> env = Map.of();
        Optional<Node> defaults = fields.get("defaults");
        if (defaults.isPresent()) {
            if (defaults.get() instanceof Node.Mapping d) {
                Fields df = new Fields(problems, d, DEFAULTS_KEYS, "defaults key");
                timeout = df.get("timeout").flatMap(n -> seconds(problems, n, "timeout"));
                env = df.get("env").map(n -> env(problems, n)).orElse(Map.of());
            } else {
                problems.add(
                        defaults.get().position(),
                        "'defaults' must be a mapping, not " + defaults.get().kind());
            }
        }
        return new SettingsResult(new RepoSettings(hooks, timeout, env), problems.list);
    }

    private JobDefinition job(
            Problems problems, String file, JobName name, Fields fields, ScriptCheck scripts, RepoSettings settings) {
        Optional<String> command = fields.get("command").flatMap(n -> scalarText(problems, n, "command"));
        Optional<Node> scriptNode = fields.get("script");
        Optional<String> script = scriptNode.flatMap(n -> scalarText(problems, n, "script"));
        Action action = new Action.Nothing();
        if (command.isPresent() && script.isPresent()) {
            problems.add(scriptNode.get().position(), "'command' and 'script' cannot both be set; choose one");
        } else if (command.isPresent()) {
            if (command.get().isBlank()) {
                problems.add(fields.get("command").get().position(), "'command' is empty");
            }
            action = new Action.Command(command.get());
        } else if (script.isPresent()) {
            action = script(problems, scriptNode.get().position(), script.get(), scripts);
        }
        Optional<Duration> timeout = fields.get("timeout")
                .flatMap(n -> seconds(problems, n, "timeout"))
                .or(settings::defaultTimeout);
        boolean appendVars = fields.get("append_vars")
                .flatMap(n -> bool(problems, n, "append_vars"))
                .orElse(true);
        List<VarSpec> vars =
                fields.get("vars").map(n -> vars(problems, n, appendVars)).orElse(List.of());
        Position actionAt =
                fields.get("command").or(() -> scriptNode).map(Node::position).orElse(null);
        List<String> actionTemplates = switch (action) {
            case Action.Command c -> List.of(c.template());
            case Action.Script s -> s.arguments();
            case Action.Nothing n -> List.of();
        };
        for (String template : actionTemplates) {
            (action instanceof Action.Command
                            ? templates.commandProblems(template, vars)
                            : templates.problems(template, vars))
                    .forEach(p -> problems.add(actionAt, p));
        }
        List<ScheduleSpec> schedules =
                fields.get("schedule").map(n -> schedules(problems, n, vars)).orElse(List.of());
        Optional<String> description = fields.get("description").flatMap(n -> scalarText(problems, n, "description"));
        Map<String, String> env = new LinkedHashMap<>(settings.defaultEnv());
        fields.get("env").ifPresent(n -> env.putAll(env(problems, n)));
        List<EnvReference> references =
                fields.get("env").map(n -> envReferences(problems, n)).orElse(List.of());
        OptionalInt concurrency = OptionalInt.empty();
        Optional<Node> concurrencyNode = fields.get("concurrency");
        if (concurrencyNode.isPresent()) {
            Optional<BigInteger> c = integer(problems, concurrencyNode.get(), "concurrency");
            if (c.isPresent() && c.get().signum() < 1) {
                problems.add(concurrencyNode.get().position(), "'concurrency' must be at least 1");
            } else if (c.isPresent() && c.get().bitLength() > 31) {
                problems.add(concurrencyNode.get().position(), "'concurrency' must be at most " + Integer.MAX_VALUE);
            } else if (c.isPresent()) {
                concurrency = OptionalInt.of(c.get().intValue());
            }
        }
        Overlap overlap = fields.get("overlap")
                .flatMap(n -> choice(problems, n, "overlap", Overlap.class))
                .orElse(Overlap.QUEUE);
        List<HookSpec> hooks = fields.get("hooks").map(n -> hooks(problems, n)).orElse(List.of());
        Optional<RetrySpec> retry = fields.get("retry").flatMap(n -> retry(problems, n));
        Streams streams = fields.get("streams")
                .flatMap(n -> choice(problems, n, "streams", Streams.class))
                .orElse(Streams.SPLIT);
        List<String> nodes =
                fields.get("nodes").map(n -> nodeLabels(problems, n)).orElse(List.of());
        return new JobDefinition(
                name,
                file,
                description,
                action,
                timeout,
                vars,
                schedules,
                env,
                concurrency,
                overlap,
                hooks,
                retry,
                references,
                streams,
                nodes);
    }

    /** A node label: what {@code --node-labels} accepts. */
    private static final Pattern LABEL = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,62}");

    /** {@code nodes}: the labels a node must all have to run the job, sorted, without repeats. */
    private static List<String> nodeLabels(Problems problems, Node node) {
        if (!(node instanceof Node.Sequence seq)) {
            problems.add(node.position(), "'nodes' must be a list of node labels, not " + node.kind());
            return List.of();
        }
        java.util.TreeSet<String> labels = new java.util.TreeSet<>();
        for (Node item : seq.items()) {
            if (item instanceof Node.Text t && LABEL.matcher(t.value()).matches()) {
                labels.add(t.value());
            } else {
                problems.add(
                        item.position(),
                        "'nodes' items must be node labels (a letter or digit, then letters, digits, '_', '.' or '-';"
                                + " at most 63), not "
                                + (item instanceof Node.Text t ? Problem.echo(t.value()) : item.kind()));
            }
        }
        return List.copyOf(labels);
    }

    private static Optional<RetrySpec> retry(Problems problems, Node node) {
        if (!(node instanceof Node.Mapping m)) {
            problems.add(
                    node.position(),
                    "'retry' must be a mapping with 'times' (and 'delay', 'backoff', 'on'), not " + node.kind());
            return Optional.empty();
        }
        Fields f = new Fields(problems, m, RETRY_KEYS, "retry key");
        Optional<Integer> times = f.require("times")
                .flatMap(n -> integer(problems, n, "times").flatMap(t -> {
                    if (t.signum() < 1 || t.compareTo(BigInteger.valueOf(1000)) > 0) {
                        problems.add(n.position(), "'times' must be from 1 to 1000, got " + Problem.echo(t));
                        return Optional.empty();
                    }
                    return Optional.of(t.intValue());
                }));
        Duration delay = f.get("delay")
                .flatMap(n -> n instanceof Node.Int i && i.value().signum() == 0
                        ? Optional.of(Duration.ZERO)
                        : seconds(problems, n, "delay"))
                .orElse(RetrySpec.DEFAULT_DELAY);
        double backoff = RetrySpec.DEFAULT_BACKOFF;
        Optional<Node> backoffNode = f.get("backoff");
        if (backoffNode.isPresent()) {
            double value = switch (backoffNode.get()) {
                case Node.Int i -> i.value().doubleValue();
                case Node.Decimal d -> d.value();
                default -> Double.NaN;
            };
            if (!(value >= 1) || value > 100) {
                problems.add(backoffNode.get().position(), "'backoff' must be a number from 1 to 100");
            } else {
                backoff = value;
            }
        }
        java.util.Set<String> on = RetrySpec.EVENTS;
        Optional<Node> onNode = f.get("on");
        if (onNode.isPresent()) {
            List<Node> items = onNode.get() instanceof Node.Sequence s ? s.items() : List.of(onNode.get());
            java.util.Set<String> chosen = new java.util.TreeSet<>();
            for (Node item : items) {
                text(problems, item, "on").ifPresent(name -> {
                    if (RetrySpec.EVENTS.contains(name)) {
                        chosen.add(name);
                    } else {
                        problems.add(
                                item.position(),
                                "'on' takes fail and time-out, got '" + Problem.echo(name) + "'"
                                        + ClosestName.hint(name, List.copyOf(RetrySpec.EVENTS)));
                    }
                });
            }
            on = chosen;
        }
        java.util.Set<String> retried = on;
        double factor = backoff;
        return times.map(t -> new RetrySpec(t, delay, factor, retried));
    }

    private static Action script(Problems problems, Position at, String value, ScriptCheck scripts) {
        List<String> words = ScriptWords.split(value);
        if (words.isEmpty()) {
            problems.add(at, "'script' is empty");
            return new Action.Nothing();
        }
        String path = words.getFirst();
        if (path.startsWith("/") || List.of(path.split("/")).contains("..")) {
            problems.add(at, "'script' must be a path inside scripts/, got '" + Problem.echo(path) + "'");
        } else {
            scripts.problem(path).ifPresent(p -> problems.add(at, p));
        }
        return new Action.Script(path, words.subList(1, words.size()));
    }

    private static List<VarSpec> vars(Problems problems, Node node, boolean appendVars) {
        List<VarSpec> vars = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (Fields f : mappings(problems, node, "vars", "var", VAR_KEYS)) {
            Optional<String> name = f.require("name").flatMap(n -> text(problems, n, "name"));
            if (name.isEmpty()) {
                continue;
            }
            Position namePos = f.get("name").orElseThrow().position();
            if (!VAR_NAME.matcher(name.get()).matches()) {
                problems.add(namePos, "var name '" + Problem.echo(name.get()) + "' must match " + VAR_NAME.pattern());
                continue;
            }
            if (RESERVED_VAR_NAMES.contains(name.get())) {
                problems.add(
                        namePos, "var name '" + Problem.echo(name.get()) + "' is reserved for the template context");
            }
            if (!names.add(name.get())) {
                problems.add(namePos, "var '" + Problem.echo(name.get()) + "' is declared twice");
            }
            VarType type = VarType.STR;
            Optional<Node> typeNode = f.get("type");
            if (typeNode.isPresent()) {
                Optional<String> id = text(problems, typeNode.get(), "type");
                if (id.isPresent()) {
                    Optional<VarType> t = VarType.byId(id.get());
                    if (t.isPresent()) {
                        type = t.get();
                    } else {
                        problems.add(
                                typeNode.get().position(),
                                "unknown var type '" + Problem.echo(id.get()) + "'"
                                        + ClosestName.hint(id.get(), VarType.ids()) + " (types: "
                                        + String.join(", ", VarType.ids()) + ")");
                    }
                }
            }
            boolean option =
                    f.get("option").flatMap(n -> bool(problems, n, "option")).orElse(false);
            boolean required = f.get("required")
                    .flatMap(n -> bool(problems, n, "required"))
                    .orElse(false);
            boolean secret =
                    f.get("secret").flatMap(n -> bool(problems, n, "secret")).orElse(false);
            boolean append =
                    f.get("append").flatMap(n -> bool(problems, n, "append")).orElse(appendVars);
            List<Object> values = List.of();
            Optional<Node> valuesNode = f.get("values");
            if (type == VarType.ENUM) {
                if (valuesNode.isEmpty()) {
                    problems.add(f.position(), "enum var '" + Problem.echo(name.get()) + "' needs 'values'");
                } else if (!(valuesNode.get() instanceof Node.Sequence vs)
                        || vs.items().isEmpty()
                        || vs.items().stream().anyMatch(v -> v instanceof Node.Mapping || v instanceof Node.Sequence)) {
                    problems.add(valuesNode.get().position(), "'values' must be a non-empty list of plain values");
                } else {
                    values = vs.items().stream().map(Node::plain).toList();
                    if (new HashSet<>(values).size() != values.size()) {
                        problems.add(valuesNode.get().position(), "'values' lists a value twice");
                    }
                }
            } else if (valuesNode.isPresent()) {
                problems.add(valuesNode.get().position(), "'values' is only for vars of type enum");
            }
            Optional<Object> defaultValue = Optional.empty();
            Optional<Node> defaultNode = f.get("default");
            if (defaultNode.isPresent()) {
                Object plain = defaultNode.get().plain();
                Optional<String> wrong = type.check(plain, values);
                if (wrong.isPresent()) {
                    problems.add(
                            defaultNode.get().position(),
                            "default of var '" + Problem.echo(name.get()) + "': " + wrong.get());
                }
                defaultValue = Optional.ofNullable(plain);
            }
            vars.add(new VarSpec(name.get(), type, option, values, required, defaultValue, secret, append));
        }
        return vars;
    }

    private List<ScheduleSpec> schedules(Problems problems, Node node, List<VarSpec> declared) {
        List<ScheduleSpec> schedules = new ArrayList<>();
        for (Fields f : mappings(problems, node, "schedule", "schedule", SCHEDULE_KEYS)) {
            Optional<Frequency> frequency = f.require("frequency").flatMap(n -> frequency(problems, n));
            ZoneId zone = UTC;
            Optional<Node> zoneNode = f.get("timezone");
            if (zoneNode.isPresent()) {
                Optional<String> z = text(problems, zoneNode.get(), "timezone");
                try {
                    zone = z.map(ZoneId::of).orElse(UTC);
                } catch (DateTimeException e) {
                    problems.add(
                            zoneNode.get().position(),
                            "unknown time zone '" + z.orElse("") + "' (use an IANA name like Europe/Berlin)");
                }
            }
            Optional<Instant> time = Optional.empty();
            Optional<Node> timeNode = f.get("time");
            if (timeNode.isPresent()) {
                time = text(problems, timeNode.get(), "time").flatMap(t -> instant(problems, timeNode.get(), t));
            }
            int priority = f.get("priority")
                    .flatMap(n -> integer(problems, n, "priority").filter(p -> {
                        if (p.bitLength() < 32) {
                            return true;
                        }
                        problems.add(
                                n.position(),
                                "'priority' must be from " + Integer.MIN_VALUE + " to " + Integer.MAX_VALUE);
                        return false;
                    }))
                    .map(BigInteger::intValue)
                    .orElse(0);
            Map<String, Object> vars =
                    f.get("vars").map(n -> scheduleVars(problems, n, declared)).orElse(Map.of());
            for (VarSpec v : declared) {
                if (v.required() && v.defaultValue().isEmpty() && !vars.containsKey(v.name())) {
                    problems.add(f.position(), "schedule does not give required var '" + v.name() + "'");
                }
            }
            Catchup catchup = f.get("catchup")
                    .flatMap(n -> choice(problems, n, "catchup", Catchup.class))
                    .orElse(Catchup.LAST);
            Duration grace = f.get("misfire_grace")
                    .flatMap(n -> seconds(problems, n, "misfire_grace"))
                    .orElse(ScheduleSpec.DEFAULT_MISFIRE_GRACE);
            if (frequency.isPresent()) {
                schedules.add(new ScheduleSpec(frequency.get(), time, priority, zone, vars, catchup, grace));
            }
        }
        return schedules;
    }

    private static Map<String, Object> scheduleVars(Problems problems, Node node, List<VarSpec> declared) {
        if (!(node instanceof Node.Mapping m)) {
            problems.add(node.position(), "schedule 'vars' must be a mapping of var values, not " + node.kind());
            return Map.of();
        }
        Map<String, Object> values = new LinkedHashMap<>();
        List<String> names = declared.stream().map(VarSpec::name).toList();
        for (Node.Entry e : m.entries()) {
            Optional<VarSpec> spec =
                    declared.stream().filter(v -> v.name().equals(e.key())).findFirst();
            if (spec.isEmpty()) {
                problems.add(
                        e.keyPosition(),
                        "schedule sets undeclared var '" + Problem.echo(e.key()) + "'"
                                + ClosestName.hint(e.key(), names));
                continue;
            }
            Object plain = e.value().plain();
            spec.get()
                    .type()
                    .check(plain, spec.get().values())
                    .ifPresent(
                            why -> problems.add(e.value().position(), "var '" + Problem.echo(e.key()) + "': " + why));
            values.put(e.key(), plain);
        }
        return values;
    }

    private Optional<Frequency> frequency(Problems problems, Node node) {
        if (node instanceof Node.Int || node instanceof Node.Decimal) {
            return period(problems, node, node);
        }
        Optional<String> text = text(problems, node, "frequency");
        if (text.isEmpty()) {
            return Optional.empty();
        }
        String expression = text.get().strip();
        if (NUMBER.matcher(expression).matches()) {
            return period(problems, new Node.Decimal(node.position(), Double.parseDouble(expression)), node);
        }
        String expanded = expression.startsWith("@")
                ? CRON_MACROS.getOrDefault(expression.toLowerCase(Locale.ROOT), "")
                : expression;
        if (expanded.isEmpty()) {
            problems.add(
                    node.position(),
                    "unknown cron macro '" + Problem.echo(expression) + "'"
                            + ClosestName.hint(expression, CRON_MACROS.keySet()));
            return Optional.empty();
        }
        int fields = BLANKS.split(expanded).length;
        CronParser parser = switch (fields) {
            case 5 -> unixCron;
            case 6 -> expanded.contains("?") ? quartzCron : springCron;
            case 7 -> quartzCron;
            default -> null;
        };
        if (parser == null) {
            problems.add(
                    node.position(),
                    "cron expression '" + Problem.echo(expression) + "' has " + fields
                            + " fields; expected 5 (Unix), 6 (with seconds) or 7 (Quartz with year)");
            return Optional.empty();
        }
        try {
            Cron cron = parsedCrons.get(expanded);
            if (cron == null) {
                cron = parser.parse(expanded).validate();
                if (parsedCrons.size() >= CRON_CACHE_LIMIT) {
                    parsedCrons.clear();
                }
                parsedCrons.put(expanded, cron);
            }
            return Optional.of(new Frequency.CronExpression(expression, cron));
        } catch (RuntimeException e) {
            // cron-utils reports most mistakes as IllegalArgumentException, some odd ones as others.
            problems.add(
                    node.position(),
                    "invalid cron expression '" + expression.replaceAll("\\p{Cntrl}", "?") + "': "
                            + (e instanceof IllegalArgumentException ? e.getMessage() : "it cannot be read")
                            + quartzDayHint(expanded, fields));
            return Optional.empty();
        }
    }

    /**
     * Quartz (6 fields with '?', or 7) takes a '?' in one of the two day fields; people write '*'
     * in both, as in Unix cron. Says how to write it, with their expression mended.
     */
    private static String quartzDayHint(String expanded, int fields) {
        if (fields != 7 && !(fields == 6 && expanded.contains("?"))) {
            return "";
        }
        String[] f = BLANKS.split(expanded);
        if (f[3].equals("?") || f[5].equals("?")) {
            return "";
        }
        f[f[3].equals("*") ? 3 : 5] = "?";
        return " (a Quartz expression needs '?' in the day-of-month or the day-of-week field: '"
                + String.join(" ", f).replaceAll("\\p{Cntrl}", "?") + "')";
    }

    private static Optional<Instant> instant(Problems problems, Node at, String text) {
        try {
            return Optional.of(OffsetDateTime.parse(text).toInstant());
        } catch (DateTimeException e) {
            try {
                return Optional.of(java.time.LocalDateTime.parse(text).toInstant(ZoneOffset.UTC));
            } catch (DateTimeException e2) {
                problems.add(
                        at.position(),
                        "'time' must be an ISO-8601 date-time like 2026-01-31T04:00:00Z, got '" + Problem.echo(text)
                                + "'");
                return Optional.empty();
            }
        }
    }

    private static List<HookSpec> hooks(Problems problems, Node node) {
        List<HookSpec> hooks = new ArrayList<>();
        for (Fields f : mappings(problems, node, "hooks", "hook", HOOK_KEYS)) {
            Optional<URI> url =
                    f.require("url").flatMap(n -> text(problems, n, "url").flatMap(u -> url(problems, n, u)));
            List<String> events = List.of("*");
            Optional<Node> eventsNode = f.get("events");
            if (eventsNode.isPresent()) {
                if (eventsNode.get() instanceof Node.Sequence es && !es.items().isEmpty()) {
                    List<String> names = new ArrayList<>();
                    for (Node e : es.items()) {
                        text(problems, e, "events").ifPresent(name -> {
                            if (EVENT_NAME.matcher(name).matches()) {
                                names.add(name);
                            } else {
                                problems.add(
                                        e.position(), "'" + Problem.echo(name) + "' is not an event name or \"*\"");
                            }
                        });
                    }
                    events = names;
                } else {
                    problems.add(
                            eventsNode.get().position(), "'events' must be a non-empty list of event names or [\"*\"]");
                }
            }
            Optional<String> secretVariable = Optional.empty();
            Optional<Node> secretNode = f.get("secret");
            if (secretNode.isPresent()) {
                Optional<String> s = text(problems, secretNode.get(), "secret");
                var matcher = SECRET_REFERENCE.matcher(s.orElse(""));
                if (s.isPresent() && matcher.matches() && SERVER_CREDENTIALS.contains(matcher.group(1))) {
                    // Signing with it would hand a keyed hash of the server's own credential to a
                    // URL the repository chose.
                    problems.add(
                            secretNode.get().position(),
                            "'secret' cannot be " + matcher.group(1)
                                    + ": that is the server's own credential, not a webhook secret");
                } else if (s.isPresent() && matcher.matches()) {
                    secretVariable = Optional.of(matcher.group(1));
                } else if (s.isPresent()) {
                    problems.add(
                            secretNode.get().position(),
                            "'secret' must name a server environment variable as "
                                    + "${NAME}; secrets never live in the repository");
                }
            }
            if (url.isPresent()) {
                hooks.add(new HookSpec(
                        url.get(),
                        events,
                        secretVariable,
                        problems.file,
                        secretNode.map(Node::position).orElse(f.mapping.position())));
            }
        }
        return hooks;
    }

    /** The items of a list of mappings ({@code vars}, {@code schedule}, {@code hooks}); other items are problems. */
    private static List<Fields> mappings(Problems problems, Node node, String key, String item, List<String> known) {
        if (!(node instanceof Node.Sequence seq)) {
            problems.add(node.position(), "'" + key + "' must be a list of " + item + " mappings, not " + node.kind());
            return List.of();
        }
        List<Fields> mappings = new ArrayList<>();
        for (Node n : seq.items()) {
            if (n instanceof Node.Mapping m) {
                mappings.add(new Fields(problems, m, known, item + " key"));
            } else {
                problems.add(n.position(), "a " + item + " must be a mapping, not " + n.kind());
            }
        }
        return mappings;
    }

    /** The hook's URL, or a problem that names what is wrong with it but not the URL (it may hold credentials). */
    private static Optional<URI> url(Problems problems, Node at, String text) {
        return switch (HookUrl.parse(text)) {
            case HookUrl.Usable u -> Optional.of(u.uri());
            case HookUrl.Unusable u -> {
                problems.add(at.position(), "hook 'url' " + u.reason());
                yield Optional.empty();
            }
        };
    }

    /** The {@code ${NAME}} values of a job's env; Overseer's own variables may not be read this way. */
    private static List<EnvReference> envReferences(Problems problems, Node node) {
        List<EnvReference> references = new ArrayList<>();
        if (node instanceof Node.Mapping m) {
            for (Node.Entry e : m.entries()) {
                Optional<String> value = e.value().scalarText();
                if (value.isEmpty()) {
                    continue;
                }
                var matcher = SECRET_REFERENCE.matcher(value.get());
                if (!matcher.matches()) {
                    continue;
                }
                if (matcher.group(1).startsWith("OVERSEER_")) {
                    problems.add(
                            e.value().position(),
                            "env '" + Problem.echo(e.key()) + "' cannot read " + matcher.group(1)
                                    + ": Overseer's own settings and secrets are not for jobs");
                } else {
                    references.add(new EnvReference(
                            e.key(), matcher.group(1), e.value().position()));
                }
            }
        }
        return references;
    }

    private static Map<String, String> env(Problems problems, Node node) {
        if (!(node instanceof Node.Mapping m)) {
            problems.add(node.position(), "'env' must be a mapping of NAME: value, not " + node.kind());
            return Map.of();
        }
        Map<String, String> env = new LinkedHashMap<>();
        for (Node.Entry e : m.entries()) {
            if (!ENV_NAME.matcher(e.key()).matches()) {
                problems.add(
                        e.keyPosition(), "'" + Problem.echo(e.key()) + "' is not a valid environment variable name");
                continue;
            }
            Optional<String> value = e.value().scalarText();
            if (value.isPresent()) {
                env.put(e.key(), value.get());
            } else {
                problems.add(
                        e.value().position(),
                        "env '" + Problem.echo(e.key()) + "' must be a plain value, not "
                                + e.value().kind());
            }
        }
        return env;
    }

    /** A fixed period: whole seconds or more, since schedules are kept to the second. */
    private static Optional<Frequency> period(Problems problems, Node value, Node at) {
        Optional<Duration> every = seconds(problems, value, "frequency");
        if (every.isPresent() && every.get().compareTo(Duration.ofSeconds(1)) < 0) {
            problems.add(at.position(), "a 'frequency' period must be at least 1 second");
            return Optional.empty();
        }
        return every.map(Frequency.Period::new);
    }

    private static Optional<Duration> seconds(Problems problems, Node node, String key) {
        double seconds;
        switch (node) {
            case Node.Int i -> seconds = i.value().doubleValue();
            case Node.Decimal d -> seconds = d.value();
            default -> {
                problems.add(node.position(), "'" + key + "' must be a number of seconds, not " + node.kind());
                return Optional.empty();
            }
        }
        if (!(seconds > 0)) {
            problems.add(node.position(), "'" + key + "' must be a positive number of seconds");
            return Optional.empty();
        }
        if (seconds > MAX_SECONDS) {
            problems.add(
                    node.position(),
                    "'" + key + "' must be at most " + MAX_SECONDS + " seconds (100 years), got "
                            + Problem.echo(node.scalarText().orElse("?")));
            return Optional.empty();
        }
        return Optional.of(Duration.ofMillis(Math.max(1, Math.round(seconds * 1000))));
    }

    private static Optional<String> text(Problems problems, Node node, String key) {
        if (node instanceof Node.Text t) {
            return Optional.of(t.value());
        }
        problems.add(node.position(), "'" + key + "' must be a string, not " + node.kind());
        return Optional.empty();
    }

    /** For free text, where YAML would read {@code command: true} as a boolean: any plain scalar counts. */
    private static Optional<String> scalarText(Problems problems, Node node, String key) {
        return node.scalarText().or(() -> text(problems, node, key));
    }

    private static Optional<BigInteger> integer(Problems problems, Node node, String key) {
        if (node instanceof Node.Int i) {
            return Optional.of(i.value());
        }
        problems.add(node.position(), "'" + key + "' must be an integer, not " + node.kind());
        return Optional.empty();
    }

    /** YAML 1.2 reads {@code yes} as a string; job files commonly use it, so it counts as true here. */
    private static Optional<Boolean> bool(Problems problems, Node node, String key) {
        if (node instanceof Node.Bool b) {
            return Optional.of(b.value());
        }
        if (node instanceof Node.Text t) {
            switch (t.value().toLowerCase(Locale.ROOT)) {
                case "yes", "on", "true" -> {
                    return Optional.of(true);
                }
                case "no", "off", "false" -> {
                    return Optional.of(false);
                }
                default -> {}
            }
        }
        problems.add(node.position(), "'" + key + "' must be true or false, not " + node.kind());
        return Optional.empty();
    }

    private static <E extends Enum<E>> Optional<E> choice(Problems problems, Node node, String key, Class<E> type) {
        Optional<String> text = text(problems, node, key);
        if (text.isEmpty()) {
            return Optional.empty();
        }
        List<String> names = java.util.Arrays.stream(type.getEnumConstants())
                .map(c -> c.name().toLowerCase(Locale.ROOT))
                .toList();
        int index = names.indexOf(text.get());
        if (index < 0) {
            problems.add(
                    node.position(),
                    "'" + key + "' must be one of " + String.join(", ", names) + ", got '" + Problem.echo(text.get())
                            + "'" + ClosestName.hint(text.get(), names));
            return Optional.empty();
        }
        return Optional.of(type.getEnumConstants()[index]);
    }

    /** The problems found in one file. */
    private static final class Problems {
        final String file;
        final List<Problem> list = new ArrayList<>();

        Problems(String file) {
            this.file = file;
        }

        void add(Position at, String message) {
            list.add(Problem.at(file, at, message));
        }
    }

    /** The keys of one mapping; unknown keys are reported once, with a suggestion. */
    private static final class Fields {
        private final Problems problems;
        private final Node.Mapping mapping;

        Fields(Problems problems, Node.Mapping mapping, List<String> known, String what) {
            this.problems = problems;
            this.mapping = mapping;
            for (Node.Entry e : mapping.entries()) {
                if (!known.contains(e.key())) {
                    problems.add(
                            e.keyPosition(),
                            "unknown " + what + " '" + Problem.echo(e.key()) + "'" + ClosestName.hint(e.key(), known));
                }
            }
        }

        Optional<Node> get(String key) {
            return mapping.entries().stream()
                    .filter(e -> e.key().equals(key))
                    .map(Node.Entry::value)
                    .findFirst();
        }

        Position position() {
            return mapping.position();
        }

        Optional<Node> require(String key) {
            Optional<Node> node = get(key);
            if (node.isEmpty()) {
                problems.add(mapping.position(), "missing required key '" + key + "'");
            }
            return node;
        }
    }
}
