package overseer.event;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import overseer.store.Delivery;
import overseer.store.Store;
import overseer.store.StoreException;

/**
 * Sends the stored deliveries. One dispatcher takes the due ones from the store, each the oldest
 * pending delivery of its (hook, execution), so a receiver sees an execution's events in order;
 * each attempt runs on a virtual thread. At most {@code maxConcurrent} attempts run at once, at
 * most {@code maxPerHook} of them to one hook, so a slow or dead receiver cannot hold back the
 * others. Outcomes are written back to the store; what was in flight at a crash is still pending
 * there and is sent again (at-least-once).
 */
public final class WebhookSender implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(WebhookSender.class);
    private static final Duration IDLE_CHECK = Duration.ofSeconds(30);
    private static final Duration BUSY_CHECK = Duration.ofSeconds(1);
    private static final Duration GATHER = Duration.ofMillis(10);
    private static final int MAX_ERROR = 300;

    public record Settings(RetrySchedule retry, Duration attemptTimeout, int maxConcurrent, int maxPerHook) {
        public static Settings defaults(RetrySchedule retry) {
            return new Settings(retry, Duration.ofSeconds(10), 64, 16);
        }
    }

    /** What a receiver answered a ping with. */
    public record PingResult(OptionalInt status, Optional<String> error) {}

    private final Store store;
    private final HookSecrets secrets;
    private final Settings settings;
    private final Clock clock;
    private final WakeUp wakeUp;
    private final String userAgent;
    private final HookClient client;
    private final overseer.metrics.Metrics metrics;
    private final Map<String, Delivery> inFlight = new ConcurrentHashMap<>();
    private final Map<String, Integer> perHook = new ConcurrentHashMap<>();
    /** Outcomes waiting to be written; bounded by {@code maxConcurrent}, as each comes from an attempt in flight. */
    private final BlockingQueue<Outcome> outcomes = new LinkedBlockingQueue<>();

    private volatile boolean closed;
    private Thread dispatcher;
    private Thread recorder;

    private record Outcome(Delivery delivery, Delivery.Attempt attempt) {}

    public WebhookSender(
            Store store,
            HookSecrets secrets,
            Settings settings,
            Clock clock,
            WakeUp wakeUp,
            String userAgent,
            overseer.metrics.Metrics metrics) {
        this.metrics = metrics;
        this.store = store;
        this.secrets = secrets;
        this.settings = settings;
        this.clock = clock;
        this.wakeUp = wakeUp;
        this.userAgent = userAgent;
        // One client: connections to a receiver are kept and reused across deliveries.
        this.client = new HookClient(settings.attemptTimeout());
    }

    public void start() {
        dispatcher = Thread.ofVirtual().name("webhook-dispatcher").start(this::dispatch);
        recorder = Thread.ofVirtual().name("webhook-recorder").start(this::record);
    }

    /**
     * Writes outcomes in groups: whatever finished while the previous write was being committed
     * goes into the next transaction, so a busy receiver costs one commit per group, not one per
     * delivery. A delivery stays in flight until its outcome is written; until then the store
     * still calls it pending, and it must not be taken again.
     */
    private void record() {
        List<Outcome> batch = new ArrayList<>();
        while (true) {
            try {
                batch.add(outcomes.take());
            } catch (InterruptedException e) {
                return;
            }
            outcomes.drainTo(batch);
            Map<String, Delivery.Attempt> attempts = new LinkedHashMap<>();
            batch.forEach(o -> attempts.put(o.delivery().id(), o.attempt()));
            try {
                store.deliveriesAttempted(attempts);
            } catch (StoreException e) {
                // Still pending in the store: sent again, which at-least-once allows.
                log.error("webhooks: the outcomes of {} attempts are not recorded: {}", batch.size(), e.getMessage());
            }
            for (Outcome o : batch) {
                Delivery d = o.delivery();
                inFlight.remove(d.id());
                perHook.computeIfPresent(d.hookKey(), (k, n) -> n <= 1 ? null : n - 1);
            }
            batch.clear();
            wakeUp.ring();
        }
    }

    /** Looks for due deliveries now (one was made due by hand). */
    public void wake() {
        wakeUp.ring();
    }

    private void dispatch() {
        while (!closed) {
            Duration wait = BUSY_CHECK;
            try {
                int free = settings.maxConcurrent() - inFlight.size();
                if (free > 0) {
                    List<Delivery> due = store.dueDeliveries(clock.instant(), new HashSet<>(inFlight.keySet()), free);
                    for (Delivery d : due) {
                        if (perHook.getOrDefault(d.hookKey(), 0) < settings.maxPerHook()) {
                            launch(d);
                        }
                    }
                    if (due.isEmpty() && inFlight.isEmpty()) {
                        Optional<Instant> next = store.nextDeliveryDue();
                        wait = next.map(n -> Duration.between(clock.instant(), n))
                                .filter(d -> d.compareTo(IDLE_CHECK) < 0)
                                .orElse(IDLE_CHECK);
                    }
                }
            } catch (StoreException e) {
                log.error("webhooks: cannot read the deliveries: {}", e.getMessage());
            }
            try {
                if (wakeUp.await(wait)) {
                    // Let rings pile up a moment: one look at the store serves many of them, and
                    // the store's lock is shared with the executions.
                    Thread.sleep(GATHER);
                }
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private void launch(Delivery d) {
        inFlight.put(d.id(), d);
        perHook.merge(d.hookKey(), 1, Integer::sum);
        Thread.ofVirtual().name("webhook-" + d.id()).start(() -> outcomes.add(new Outcome(d, attempt(d))));
    }

    private Delivery.Attempt attempt(Delivery d) {
        Answer answer = send(d.url(), d.id(), d.secretVariable(), d.payload());
        Instant at = clock.instant();
        int attempts = d.attempts() + 1;
        Delivery.Attempt outcome;
        if (answer.status().isPresent() && answer.status().getAsInt() / 100 == 2) {
            outcome = new Delivery.Attempt(
                    Delivery.State.DELIVERED, answer.status(), Optional.empty(), Optional.empty(), at);
        } else if (answer.status().isPresent() && answer.status().getAsInt() == 410) {
            outcome = new Delivery.Attempt(
                    Delivery.State.FAILED,
                    answer.status(),
                    Optional.of("the receiver answered 410 Gone"),
                    Optional.empty(),
                    at);
            log.warn("webhooks: {} to {} stopped: the receiver answered 410 Gone", describe(d), Urls.mask(d.url()));
        } else {
            Optional<Instant> next = settings.retry().next(attempts, at, d.expiresAt());
            String why =
                    answer.error().orElseGet(() -> "HTTP " + answer.status().getAsInt());
            outcome = new Delivery.Attempt(
                    next.isPresent() ? Delivery.State.PENDING : Delivery.State.EXPIRED,
                    answer.status(),
                    Optional.of(why),
                    next,
                    at);
            log.warn(
                    "webhooks: {} to {} failed (attempt {}): {}; {}",
                    describe(d),
                    Urls.mask(d.url()),
                    attempts,
                    why,
                    next.map(n -> "next attempt at " + n).orElse("expired, no more attempts"));
        }
        metrics.delivery(outcome.state().column());
        return outcome;
    }

    private record Answer(OptionalInt status, Optional<String> error) {}

    private Answer send(String url, String id, Optional<String> secretVariable, String payload) {
        byte[] body = payload.getBytes(StandardCharsets.UTF_8);
        long timestamp = clock.instant().getEpochSecond();
        URI uri;
        try {
            uri = URI.create(url);
        } catch (IllegalArgumentException e) {
            return new Answer(OptionalInt.empty(), Optional.of("not a usable URL: " + e.getMessage()));
        }
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("Content-Type", "application/json");
        headers.put("User-Agent", userAgent);
        headers.put("webhook-id", id);
        headers.put("webhook-timestamp", Long.toString(timestamp));
        if (secretVariable.isPresent()) {
            Optional<byte[]> key = secrets.key(secretVariable.get());
            if (key.isEmpty()) {
                return new Answer(
                        OptionalInt.empty(),
                        Optional.of("the secret variable " + secretVariable.get() + " is not set; not sent unsigned"));
            }
            headers.put("webhook-signature", Signature.sign(key.get(), id, timestamp, body));
        }
        try {
            return new Answer(OptionalInt.of(client.post(uri, headers, body)), Optional.empty());
        } catch (java.net.SocketTimeoutException e) {
            return new Answer(
                    OptionalInt.empty(),
                    Optional.of("no answer within " + settings.attemptTimeout().toSeconds() + " s"));
        } catch (IOException e) {
            String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            if (e instanceof java.net.ConnectException) {
                message = "connection refused or unreachable" + (e.getMessage() == null ? "" : ": " + e.getMessage());
            }
            return new Answer(OptionalInt.empty(), Optional.of(truncate(message)));
        }
    }

    /** Sends a signed {@code ping} to a hook now, outside the outbox, and says what the receiver answered. */
    public PingResult ping(Webhooks.Hook hook, String payload) {
        Answer a = send(
                hook.spec().url().toString(),
                "msg_ping_" + java.util.UUID.randomUUID().toString().replace("-", ""),
                hook.spec().secretVariable(),
                payload);
        return new PingResult(a.status(), a.error());
    }

    private static String describe(Delivery d) {
        return "delivery " + d.id() + " (" + d.job() + "/" + d.number() + " " + d.event() + ")";
    }

    private static String truncate(String text) {
        return text.length() <= MAX_ERROR ? text : text.substring(0, MAX_ERROR) + "…";
    }

    /** Stops sending; attempts in flight get a few seconds, and whatever is unsent stays pending for the next start. */
    @Override
    public void close() {
        closed = true;
        wakeUp.ring();
        if (dispatcher != null) {
            try {
                dispatcher.join(2000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (!inFlight.isEmpty() && System.nanoTime() < deadline) {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        if (recorder != null) {
            recorder.interrupt();
        }
        client.close();
    }
}
