package overseer.event;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import overseer.config.Snapshot;
import overseer.job.HookSpec;
import overseer.job.JobDefinition;
import overseer.job.Problem;
import overseer.store.Delivery;
import overseer.store.Event;
import overseer.store.Execution;
import overseer.store.Outbox;

/**
 * The hooks of the active configuration ({@code overseer.yml} for all jobs, then the job's own),
 * and the deliveries each event makes for them. The hooks in force when an event happens are the
 * ones it goes to. A hook whose secret variable is unset is disabled, with a warning.
 */
public final class Webhooks implements Outbox {
    private static final Logger log = LoggerFactory.getLogger(Webhooks.class);
    private static final DateTimeFormatter TIME =
            DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

    /** How long a delivery is retried before it expires. */
    public static final Duration WINDOW = Duration.ofHours(24);

    /** A hook that is in force: its spec and the key its deliveries are ordered by. */
    public record Hook(HookSpec spec, String key) {}

    /** The hooks of one snapshot, resolved once: for each job, the repository's hooks and then its own. */
    private record Resolved(
            Optional<Snapshot> snapshot, List<Hook> global, Map<String, List<Hook>> byJob, List<Problem> warnings) {
        List<Hook> of(String job) {
            return byJob.getOrDefault(job, global);
        }

        List<Hook> all() {
            List<Hook> all = new ArrayList<>(global);
            byJob.values()
                    .forEach(hooks ->
                            hooks.stream().filter(h -> !all.contains(h)).forEach(all::add));
            return all;
        }
    }

    private final Supplier<Optional<Snapshot>> active;
    private final HookSecrets secrets;
    private final Supplier<String> publicUrl;
    private final ObjectMapper json;
    private final Runnable planned;
    private volatile Resolved resolved = new Resolved(Optional.empty(), List.of(), Map.of(), List.of());

    /**
     * {@code active} gives the configuration in force; {@code planned} is told when new deliveries
     * were written (it runs inside the store's transaction, so it must only signal).
     */
    public Webhooks(
            Supplier<Optional<Snapshot>> active,
            HookSecrets secrets,
            Supplier<String> publicUrl,
            ObjectMapper json,
            Runnable planned) {
        this.active = active;
        this.secrets = secrets;
        this.publicUrl = publicUrl;
        this.json = json;
        this.planned = planned;
    }

    private Resolved current() {
        Optional<Snapshot> snapshot = active.get();
        Resolved r = resolved;
        // Identity, not equals: a snapshot's equals would compare every job on every event.
        if (r.snapshot().orElse(null) == snapshot.orElse(null)) {
            return r;
        }
        synchronized (this) {
            if (resolved.snapshot().orElse(null) != snapshot.orElse(null)) {
                resolved = resolve(snapshot);
            }
            return resolved;
        }
    }

    private Resolved resolve(Optional<Snapshot> snapshot) {
        List<Problem> warnings = new ArrayList<>();
        List<Hook> global = new ArrayList<>();
        Map<String, List<Hook>> byJob = new HashMap<>();
        if (snapshot.isPresent()) {
            global.addAll(enabled(snapshot.get().settings().hooks(), warnings));
            for (JobDefinition job : snapshot.get().jobs().values()) {
                List<Hook> hooks = new ArrayList<>(global);
                hooks.addAll(enabled(job.hooks(), warnings));
                byJob.put(job.name().value(), List.copyOf(hooks));
            }
        }
        return new Resolved(snapshot, List.copyOf(global), Map.copyOf(byJob), List.copyOf(warnings));
    }

    private List<Hook> enabled(List<HookSpec> specs, List<Problem> warnings) {
        List<Hook> hooks = new ArrayList<>();
        for (HookSpec spec : specs) {
            if (spec.secretVariable().isPresent()
                    && !secrets.has(spec.secretVariable().get())) {
                Problem warning = Problem.at(
                        spec.file(),
                        spec.position(),
                        "hook " + Urls.mask(spec.url().toString()) + " is disabled: the server environment variable "
                                + spec.secretVariable().get() + " that holds its secret is not set");
                warnings.add(warning);
                log.warn("webhooks: {}", warning);
            } else {
                hooks.add(new Hook(spec, key(spec)));
            }
        }
        return hooks;
    }

    /** Hooks disabled because their secret is missing, as {@code file:line:col} problems. */
    public List<Problem> warnings() {
        return current().warnings();
    }

    /** The hooks in force for {@code job}. */
    public List<Hook> hooks(String job) {
        return current().of(job);
    }

    /** The hook in force with this URL, for a test ping. */
    public Optional<Hook> hook(String url) {
        return current().all().stream()
                .filter(h -> h.spec().url().toString().equals(url))
                .findFirst();
    }

    @Override
    public boolean wants(String job, String event) {
        for (Hook h : current().of(job)) {
            if (h.spec().wants(event)) {
                return true;
            }
        }
        return false;
    }

    @Override
    public List<Delivery.New> deliveries(Execution execution, Event event) {
        List<Delivery.New> deliveries = new ArrayList<>();
        String payload = null;
        for (Hook h : current().of(execution.job())) {
            if (!h.spec().wants(event.name())) {
                continue;
            }
            if (payload == null) {
                payload = payload(execution, event);
            }
            deliveries.add(new Delivery.New(
                    "msg_" + UUID.randomUUID().toString().replace("-", ""),
                    h.key(),
                    h.spec().url().toString(),
                    h.spec().secretVariable(),
                    payload,
                    event.at().plus(WINDOW)));
        }
        return deliveries;
    }

    /** Wakes the sender once new deliveries are committed (on PostgreSQL it reads on another connection). */
    @Override
    public void committed() {
        planned.run();
    }

    /** The body SPEC section 6 gives: secret params are already {@code ***} in the stored params. */
    String payload(Execution e, Event event) {
        try {
            return payloadJson(e, event);
        } catch (JsonProcessingException bad) {
            throw new IllegalStateException("stored params are not JSON: " + bad.getOriginalMessage(), bad);
        }
    }

    private String payloadJson(Execution e, Event event) throws JsonProcessingException {
        ObjectNode body = json.createObjectNode();
        body.put("job", e.job());
        body.put("execution", e.number());
        body.put("status", e.status());
        body.put("metadata", publicUrl.get() + "/jobs/" + e.job() + "/" + e.number());
        ObjectNode ev = body.putObject("event");
        ev.put("name", event.name());
        ev.put("cause", event.cause().orElse(null));
        ev.put("at", TIME.format(event.at()));
        body.put("commit", e.commit());
        body.put("trigger", e.trigger());
        body.set("params", json.readTree(e.paramsJson()));
        if (e.finishedAt().isPresent()) {
            if (e.exitCode().isPresent()) {
                body.put("exit_code", e.exitCode().getAsInt());
            } else {
                body.putNull("exit_code");
            }
            if (e.startedAt().isPresent()) {
                body.put(
                        "duration_ms",
                        Duration.between(e.startedAt().get(), e.finishedAt().get())
                                .toMillis());
            }
        }
        return json.writeValueAsString(body);
    }

    /** A ping for {@code POST /hooks/test}, shaped like a delivery's body. */
    public String ping(Instant at) throws JsonProcessingException {
        ObjectNode body = json.createObjectNode();
        ObjectNode ev = body.putObject("event");
        ev.put("name", "ping");
        ev.putNull("cause");
        ev.put("at", TIME.format(at));
        body.put("metadata", publicUrl.get());
        return json.writeValueAsString(body);
    }

    private static String key(HookSpec spec) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256")
                    .digest((spec.url() + "\n" + spec.secretVariable().orElse("")).getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }
}
