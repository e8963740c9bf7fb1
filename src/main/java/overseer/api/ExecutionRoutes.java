package overseer.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import io.undertow.util.HttpString;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import overseer.execution.Executions;
import overseer.execution.InvalidParams;
import overseer.execution.Refused;
import overseer.job.JobName;
import overseer.output.OutputView;
import overseer.store.Execution;
import overseer.store.ExecutionQuery;
import overseer.store.RunState;
import overseer.store.StaleState;
import overseer.store.Store;
import overseer.store.StoreException;

/** Triggering executions and everything under {@code /jobs/<job>/<n>}. */
public final class ExecutionRoutes {
    private static final int MAX_BODY = 1024 * 1024;
    private static final Duration MAX_WAIT = Duration.ofMinutes(5);
    private static final Pattern RANGE = Pattern.compile("bytes=(\\d*)-(\\d*)");
    private static final List<String> STREAMS = List.of("stdout", "stderr", "output");

    private final Executions executions;
    private final Exchanges exchanges;

    public ExecutionRoutes(Executions executions, Exchanges exchanges) {
        this.executions = executions;
        this.exchanges = exchanges;
    }

    public void register(Router router) {
        Router.Access trigger = new Router.Access.Token(Role.TRIGGER);
        Router.Access admin = new Router.Access.Token(Role.ADMIN);
        Router.Access eventRaiser = new Router.Access.TokenOr(
                Role.TRIGGER,
                (params, token) -> number(params.get("n"))
                        .map(n -> executions.tokenMatches(params.get("job"), n, token))
                        .orElse(false));
        router.add("POST", "/jobs/{job}", trigger, this::trigger);
        router.add("DELETE", "/jobs/{job}", admin, (exchange, params) -> enable(exchange, params, false));
        router.add("PUT", "/jobs/{job}", admin, (exchange, params) -> enable(exchange, params, true));
        router.get("/jobs/{job}/executions", this::list);
        router.get("/executions", this::recent);
        router.get("/jobs/{job}/{n}", this::show);
        router.add("POST", "/jobs/{job}/{n}", trigger, this::repeat);
        router.add("PUT", "/jobs/{job}/{n}", eventRaiser, this::event);
        for (String stream : STREAMS) {
            router.get("/jobs/{job}/{n}/" + stream, (exchange, params) -> output(exchange, params, stream));
        }
        router.get("/jobs/{job}/{n}/{event}", this::latestEvent);
    }

    private void trigger(HttpServerExchange exchange, Map<String, String> params) throws Exception {
        Executions.Input input = input(exchange);
        Store.Created created = call(() -> executions.trigger(new Executions.Trigger(
                        params.get("job"), input, origin(exchange), idempotencyKey(exchange), 0, Optional.empty())
                .by(caller(exchange))));
        respondCreated(exchange, created);
    }

    /**
     * {@code cli} when the request says it comes from {@code overseer trigger}; otherwise
     * {@code api}. Only that one value is taken: a client cannot make up trigger names.
     */
    private static String origin(HttpServerExchange exchange) {
        return "cli".equals(exchange.getRequestHeaders().getFirst("Overseer-Trigger")) ? "cli" : "api";
    }

    /** Repeats an execution; a JSON body may give params anew (secret values must be, once it ended). */
    private void repeat(HttpServerExchange exchange, Map<String, String> params) throws Exception {
        long n = requireNumber(params);
        byte[] body = exchanges.body(exchange, MAX_BODY);
        Map<String, Object> given = new LinkedHashMap<>();
        if (!new String(body, StandardCharsets.UTF_8).isBlank()) {
            given = jsonObject(body);
        }
        Map<String, Object> values = given;
        Store.Created created =
                call(() -> executions.repeat(params.get("job"), n, values, idempotencyKey(exchange), caller(exchange)));
        respondCreated(exchange, created);
    }

    private void respondCreated(HttpServerExchange exchange, Store.Created created) throws Exception {
        Execution e = created.execution();
        Optional<Duration> wait = query(exchange, "wait").map(ExecutionRoutes::waitDuration);
        // Answered from what its creation wrote (no read after the commit), unless it was waited for.
        Optional<Store.Written> written = created.written();
        if (wait.isPresent()) {
            e = executions.awaitEnd(e.job(), e.number(), wait.get());
            written = Optional.empty();
        }
        exchange.getResponseHeaders().put(Headers.LOCATION, "/jobs/" + e.job() + "/" + e.number());
        if (created.existing()) {
            exchange.getResponseHeaders().put(new HttpString("Idempotent-Replayed"), "true");
        }
        exchanges.json(exchange, 201, detail(e, written));
    }

    /** The label of the caller's token, when there is a tokens file. */
    private static Optional<String> caller(HttpServerExchange exchange) {
        return Optional.ofNullable(exchange.getAttachment(HttpApi.CALLER)).map(Tokens.Caller::label);
    }

    /** An execution with its events and their deliveries. */
    private Map<String, Object> detail(Execution e) {
        return detail(e, Optional.empty());
    }

    /** The same, from {@code written} when it holds all the execution has (it was just created). */
    private Map<String, Object> detail(Execution e, Optional<Store.Written> written) {
        Store store = executions.store();
        Map<String, Object> view = written.isPresent()
                ? Views.execution(e, written.get().events(), written.get().deliveries())
                : Views.execution(e, store.events(e.job(), e.number()), store.deliveries(e.job(), e.number()));
        if (e.state() == overseer.store.ExecutionState.QUEUED && !e.needs().isEmpty()) {
            view.put(
                    "waiting",
                    overseer.store.ClusterNode.unplaced(store.nodes(), e.needs())
                            .orElse(null));
        }
        // A retry is made when an execution ends: one that is not a retry and has not ended has no
        // chain, which spares the query on every trigger's answer.
        List<Execution> chain = e.retryOf().isPresent() || e.finished()
                ? store.retryChain(e.job(), e.retryOf().orElse(e.number()))
                : List.of();
        view.put(
                "retry_chain",
                chain.size() < 2
                        ? List.of()
                        : chain.stream().map(Views::chainLink).toList());
        return view;
    }

    private static Duration waitDuration(String text) {
        try {
            double seconds = Double.parseDouble(text);
            if (!(seconds >= 0)) {
                throw new NumberFormatException();
            }
            Duration d = Duration.ofMillis((long) (seconds * 1000));
            return d.compareTo(MAX_WAIT) > 0 ? MAX_WAIT : d;
        } catch (NumberFormatException e) {
            throw badRequest("wait", "expected a number of seconds, got '" + text + "'");
        }
    }

    private static Optional<String> idempotencyKey(HttpServerExchange exchange) {
        String key = exchange.getRequestHeaders().getFirst("Idempotency-Key");
        if (key == null || key.isBlank()) {
            return Optional.empty();
        }
        if (key.length() > 255) {
            throw badRequest("Idempotency-Key", "at most 255 characters");
        }
        return Optional.of(key.strip());
    }

    /** The trigger's params: a JSON object, or form fields and query parameters (except {@code wait}). */
    private Executions.Input input(HttpServerExchange exchange) throws IOException {
        byte[] body = exchanges.body(exchange, MAX_BODY);
        Map<String, List<String>> strings = new LinkedHashMap<>();
        for (Map.Entry<String, Deque<String>> q : exchange.getQueryParameters().entrySet()) {
            if (!q.getKey().equals("wait")) {
                strings.computeIfAbsent(q.getKey(), k -> new ArrayList<>()).addAll(q.getValue());
            }
        }
        String type = Optional.ofNullable(exchange.getRequestHeaders().getFirst(Headers.CONTENT_TYPE))
                .orElse("")
                .toLowerCase();
        boolean blank = new String(body, StandardCharsets.UTF_8).isBlank();
        if (type.startsWith("application/x-www-form-urlencoded")) {
            for (String pair : new String(body, StandardCharsets.US_ASCII).split("&")) {
                if (pair.isEmpty()) {
                    continue;
                }
                int eq = pair.indexOf('=');
                String name;
                String value;
                try {
                    name = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
                    value = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
                } catch (IllegalArgumentException e) {
                    throw badRequest("body", "not valid form encoding: " + e.getMessage());
                }
                strings.computeIfAbsent(name, k -> new ArrayList<>()).add(value);
            }
            return new Executions.Input.Strings(strings);
        }
        if (blank) {
            return new Executions.Input.Strings(strings);
        }
        if (!type.isEmpty() && !type.startsWith("application/json")) {
            throw new ApiException(
                    415,
                    "Unsupported Media Type",
                    "send params as application/json or application/x-www-form-urlencoded");
        }
        if (!strings.isEmpty()) {
            throw badRequest("query", "give params either as a JSON body or as query parameters, not both");
        }
        return new Executions.Input.Json(jsonObject(body));
    }

    private Map<String, Object> jsonObject(byte[] body) {
        JsonNode node;
        try {
            node = exchanges.mapper().readTree(body);
        } catch (IOException e) {
            throw badRequest(
                    "body",
                    "not valid JSON: "
                            + (e instanceof JsonProcessingException j ? j.getOriginalMessage() : e.getMessage()));
        }
        if (node == null || !node.isObject()) {
            throw badRequest("body", "expected a JSON object of params");
        }
        return exchanges
                .mapper()
                .convertValue(
                        node, new com.fasterxml.jackson.core.type.TypeReference<LinkedHashMap<String, Object>>() {});
    }

    private void enable(HttpServerExchange exchange, Map<String, String> params, boolean enabled) throws Exception {
        String job = params.get("job");
        call(() -> {
            executions.setEnabled(job, enabled);
            return null;
        });
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("job", job);
        body.put("enabled", enabled);
        exchanges.json(exchange, 200, body);
    }

    private void list(HttpServerExchange exchange, Map<String, String> params) throws Exception {
        int limit =
                query(exchange, "limit").map(t -> parseInt("limit", t, 1, 500)).orElse(20);
        OptionalLong before = query(exchange, "before")
                .map(t -> OptionalLong.of(parseInt("before", t, 1, Integer.MAX_VALUE)))
                .orElse(OptionalLong.empty());
        String job = params.get("job");
        if (!executions.known(job)) {
            throw ApiException.notFound("no job named '" + job + "'");
        }
        List<Execution> page = executions
                .store()
                .executions(
                        job,
                        new ExecutionQuery(
                                before, query(exchange, "status"), state(exchange), query(exchange, "trigger"), limit));
        exchanges.json(exchange, 200, page.stream().map(Views::execution).toList());
    }

    /**
     * The newest executions of all jobs. {@code before} is the cursor a page's {@code Link: rel=next}
     * gives: {@code <created ms>:<job>:<number>} of the last execution of the previous page.
     */
    private void recent(HttpServerExchange exchange, Map<String, String> params) throws Exception {
        int limit =
                query(exchange, "limit").map(t -> parseInt("limit", t, 1, 500)).orElse(50);
        Optional<Store.Cursor> before = query(exchange, "before").map(ExecutionRoutes::cursor);
        Optional<String> status = query(exchange, "status");
        Optional<RunState> state = state(exchange);
        Optional<String> trigger = query(exchange, "trigger");
        List<Execution> page = executions.store().recent(status, state, trigger, before, limit);
        if (page.size() == limit) {
            Execution last = page.getLast();
            StringBuilder next = new StringBuilder("/executions?limit=" + limit + "&before="
                    + last.createdAt().toEpochMilli() + ":" + last.job() + ":" + last.number());
            status.ifPresent(v -> next.append("&status=").append(URLEncoder.encode(v, StandardCharsets.UTF_8)));
            state.ifPresent(v -> next.append("&state=").append(v.column()));
            trigger.ifPresent(v -> next.append("&trigger=").append(URLEncoder.encode(v, StandardCharsets.UTF_8)));
            exchange.getResponseHeaders().put(new HttpString("Link"), "<" + next + ">; rel=\"next\"");
        }
        exchanges.json(exchange, 200, page.stream().map(Views::execution).toList());
    }

    /** The {@code state} a list is filtered by, if given; a 400 naming the states when it is none of them. */
    private static Optional<RunState> state(HttpServerExchange exchange) {
        return query(exchange, "state")
                .map(text -> RunState.parse(text)
                        .orElseThrow(() -> badRequest(
                                "state",
                                "must be one of " + RunState.names() + "; got '"
                                        + (text.length() > 60 ? text.substring(0, 60) + "…" : text) + "'")));
    }

    private static Store.Cursor cursor(String text) {
        String[] parts = text.split(":", -1);
        if (parts.length != 3 || !JobName.isValid(parts[1])) {
            throw badRequest("before", "must be the cursor of a Link header: <ms>:<job>:<number>");
        }
        try {
            return new Store.Cursor(Long.parseLong(parts[0]), parts[1], Long.parseLong(parts[2]));
        } catch (NumberFormatException e) {
            throw badRequest("before", "must be the cursor of a Link header: <ms>:<job>:<number>");
        }
    }

    private void show(HttpServerExchange exchange, Map<String, String> params) throws Exception {
        Execution e = find(params);
        exchanges.json(exchange, 200, detail(e));
    }

    private void event(HttpServerExchange exchange, Map<String, String> params) throws Exception {
        long n = requireNumber(params);
        JsonNode body;
        try {
            body = exchanges.mapper().readTree(exchanges.body(exchange, 64 * 1024));
        } catch (JsonProcessingException e) {
            throw badRequest("body", "not valid JSON: " + e.getOriginalMessage());
        }
        if (body == null || !body.isObject() || !body.path("event").isTextual()) {
            throw badRequest("event", "expected {\"event\": name, \"cause\": text}");
        }
        JsonNode causeNode = body.path("cause");
        Optional<String> cause = causeNode.isMissingNode() || causeNode.isNull()
                ? Optional.empty()
                : Optional.of(causeNode.isTextual() ? causeNode.asText() : causeNode.toString());
        if (cause.isPresent() && cause.get().length() > 4096) {
            throw badRequest("cause", "at most 4096 characters");
        }
        String name = body.path("event").asText();
        Execution e;
        try {
            e = call(() -> executions.event(params.get("job"), n, name, cause, "api"));
        } catch (IllegalArgumentException bad) {
            throw badRequest("event", bad.getMessage());
        }
        exchanges.json(exchange, 200, detail(e));
    }

    private void latestEvent(HttpServerExchange exchange, Map<String, String> params) throws Exception {
        Execution e = find(params);
        String name = params.get("event");
        var event = executions
                .store()
                .latestEvent(e.job(), e.number(), name)
                .orElseThrow(() -> ApiException.notFound(
                        "execution " + e.job() + "/" + e.number() + " has no event '" + name + "'"));
        exchanges.json(exchange, 200, Views.event(event));
    }

    /**
     * A captured stream as text, with a byte {@code Range}. {@code ?follow=1} keeps the response
     * open and sends what the job writes until the execution ends.
     */
    private void output(HttpServerExchange exchange, Map<String, String> params, String stream) throws Exception {
        Execution e = find(params);
        OutputView view = executions.output(e.job(), e.number(), stream);
        boolean follow = query(exchange, "follow")
                .map(v -> !v.equals("0") && !v.equals("false"))
                .orElse(false);
        CompletableFuture<Void> done = executions.completion(e.job(), e.number());
        exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, "text/plain; charset=utf-8");
        exchange.getResponseHeaders().put(Headers.ACCEPT_RANGES, "bytes");
        long size = view.size();
        long start = 0;
        long end = size; // exclusive
        String range = exchange.getRequestHeaders().getFirst(Headers.RANGE);
        Matcher m = range == null ? null : RANGE.matcher(range.strip());
        if (m != null && m.matches() && !(m.group(1).isEmpty() && m.group(2).isEmpty())) {
            long first = m.group(1).isEmpty() ? -1 : parseOrMax(m.group(1));
            long last = m.group(2).isEmpty() ? -1 : parseOrMax(m.group(2));
            if (first == Long.MAX_VALUE || last == Long.MAX_VALUE) {
                // Past what a long holds: no stream is that long.
                exchange.getResponseHeaders().put(Headers.CONTENT_RANGE, "bytes */" + size);
                throw new ApiException(416, "Range Not Satisfiable", "the stream has " + size + " bytes");
            }
            if (first < 0) {
                start = Math.max(0, size - last);
            } else {
                start = first;
                end = last < 0 ? size : Math.min(size, last + 1);
            }
            if (!follow) {
                if (start >= size || start >= end) {
                    exchange.getResponseHeaders().put(Headers.CONTENT_RANGE, "bytes */" + size);
                    throw new ApiException(416, "Range Not Satisfiable", "the stream has " + size + " bytes");
                }
                exchange.setStatusCode(206);
                exchange.getResponseHeaders()
                        .put(Headers.CONTENT_RANGE, "bytes " + start + "-" + (end - 1) + "/" + size);
            }
        }
        if (follow) {
            follow(exchange, view, start, done);
            return;
        }
        exchange.getResponseHeaders().put(Headers.CONTENT_LENGTH, end - start);
        if (!exchange.getRequestMethod().equalToString("HEAD")) {
            view.copy(start, end, Exchanges.output(exchange));
        }
    }

    /**
     * Sends new bytes as they come, until the execution has finished and all is sent, the client
     * went away, or the server shuts down (then it sends what there is and closes).
     */
    private void follow(HttpServerExchange exchange, OutputView view, long start, CompletableFuture<Void> done)
            throws IOException, InterruptedException {
        OutputStream out = Exchanges.output(exchange);
        // Headers go out at once: a follower of a queued or quiet execution learns that it is
        // following, instead of waiting with no answer until the first byte.
        out.flush();
        CompletableFuture<Object> stop = CompletableFuture.anyOf(done, executions.closing());
        long position = start;
        while (true) {
            boolean ended = stop.isDone();
            long size = view.size();
            if (size > position) {
                view.copy(position, size, out);
                out.flush();
                position = size;
                continue;
            }
            if (ended || !exchange.getConnection().isOpen()) {
                return;
            }
            try {
                stop.get(100, TimeUnit.MILLISECONDS);
            } catch (TimeoutException | ExecutionException e) {
                // Look for new bytes again.
            }
        }
    }

    private Execution find(Map<String, String> params) throws Exception {
        long n = requireNumber(params);
        return call(() -> executions.execution(params.get("job"), n));
    }

    private static long requireNumber(Map<String, String> params) {
        return number(params.get("n"))
                .orElseThrow(() ->
                        ApiException.notFound("no resource at /jobs/" + params.get("job") + "/" + params.get("n")));
    }

    /** An execution number as it appears in URLs: ASCII digits, no leading zero. */
    private static Optional<Long> number(String text) {
        if (text == null
                || text.isEmpty()
                || text.length() > 18
                || text.charAt(0) == '0'
                || !text.chars().allMatch(c -> c >= '0' && c <= '9')) {
            return Optional.empty();
        }
        return Optional.of(Long.parseLong(text));
    }

    private static long parseOrMax(String digits) {
        try {
            return Long.parseLong(digits);
        } catch (NumberFormatException e) {
            return Long.MAX_VALUE;
        }
    }

    static int parseInt(String name, String text, int min, int max) {
        try {
            int value = Integer.parseInt(text);
            if (value < min || value > max) {
                throw new NumberFormatException();
            }
            return value;
        } catch (NumberFormatException e) {
            throw badRequest(name, "expected an integer from " + min + " to " + max + ", got '" + text + "'");
        }
    }

    static Optional<String> query(HttpServerExchange exchange, String name) {
        Deque<String> values = exchange.getQueryParameters().get(name);
        return values == null || values.isEmpty() ? Optional.empty() : Optional.of(values.getFirst());
    }

    static ApiException badRequest(String field, String message) {
        return new ApiException(
                400,
                "Bad Request",
                field + ": " + message,
                List.of(Map.of("field", field, "message", message)),
                Map.of());
    }

    @FunctionalInterface
    private interface Call<T> {
        T run() throws Refused, InvalidParams, InterruptedException;
    }

    /** Runs an engine call, turning its refusals into the HTTP answers SPEC section 5 gives. */
    private static <T> T call(Call<T> call) throws InterruptedException {
        try {
            return call.run();
        } catch (StaleState e) {
            // Someone else changed the execution first: the caller's view is out of date.
            throw new ApiException(409, "Conflict", e.getMessage());
        } catch (StoreException e) {
            throw new ApiException(503, "Service Unavailable", e.getMessage(), List.of(), Map.of("Retry-After", "30"));
        } catch (InvalidParams e) {
            throw new ApiException(
                    400,
                    "Bad Request",
                    e.getMessage(),
                    e.errors().stream()
                            .map(f -> Map.<String, Object>of("field", f.field(), "message", f.message()))
                            .toList(),
                    Map.of());
        } catch (Refused e) {
            throw switch (e.reason()) {
                case UNKNOWN_JOB, UNKNOWN_EXECUTION, NO_CONFIGURATION -> ApiException.notFound(e.getMessage());
                case DISABLED, CONCURRENCY_REACHED, FINISHED, NOT_RUNNING, TOO_MANY_EVENTS ->
                    new ApiException(409, "Conflict", e.getMessage());
                case QUEUE_FULL ->
                    new ApiException(503, "Service Unavailable", e.getMessage(), List.of(), Map.of("Retry-After", "5"));
                case SHUTTING_DOWN ->
                    new ApiException(
                            503, "Service Unavailable", e.getMessage(), List.of(), Map.of("Retry-After", "30"));
                case CANNOT_RENDER ->
                    new ApiException(
                            400,
                            "Bad Request",
                            e.getMessage(),
                            List.of(Map.of("field", "command", "message", e.getMessage())),
                            Map.of());
            };
        }
    }
}
