package overseer.event;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import overseer.job.HookUrl;
import overseer.service.BackgroundService;
import overseer.service.Supervisor;
import overseer.store.Delivery;
import overseer.store.Store;

/**
 * Sends the stored deliveries. One dispatcher claims the due ones in the store (a claim with an
 * expiry, renewed while it is held, so the outbox is shared state, not this sender's memory), each
 * the oldest pending delivery of its (hook, execution), so a receiver sees an execution's events in
 * order; each attempt runs on a virtual thread. At most {@code maxConcurrent} attempts run at once, at
 * most {@code maxPerHook} of them to one hook, so a slow or dead receiver cannot hold back the
 * others. A recorder writes the outcomes back to the store; what was in flight at a crash is still
 * pending there and is sent again (at-least-once). Both are background services: the supervisor
 * runs them, and owns what happens when a round fails.
 */
public final class WebhookSender implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(WebhookSender.class);
    private static final Duration IDLE_CHECK = Duration.ofSeconds(30);
    private static final Duration BUSY_CHECK = Duration.ofSeconds(1);
    private static final Duration GATHER = Duration.ofMillis(10);
    private static final Duration MIN_WAIT = Duration.ofMillis(50);
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
    /**
     * Deliveries sent and not yet recorded: being sent, or sent with their outcome not yet saved.
     * Each holds a slot of its hook, and its claim in the store until its outcome is saved.
     */
    private final Map<String, Delivery> inFlight = new ConcurrentHashMap<>();
    /** Who this sender is in the store's claims: one per start, never reused. */
    /** Claims are made as this server's node: when it dies, the node that ends its work releases them. */
    private String claimant() {
        return store.nodeId();
    }
    /** How long a claim lasts without renewal: well beyond an attempt and the write of its outcome. */
    private final Duration lease;
    /** Claims of earlier runs are given up once, before the first claim of this one. */
    private boolean releasedEarlierClaims;

    private Instant renewedAt = Instant.EPOCH;

    private final Map<String, Integer> perHook = new ConcurrentHashMap<>();
    /** Outcomes waiting to be written; bounded by {@code maxConcurrent}, as each comes from an attempt in flight. */
    private final BlockingQueue<Outcome> outcomes = new LinkedBlockingQueue<>();
    /** Set while the latest write of outcomes failed: the recorder then retries on its backoff, not at each new outcome. */
    private volatile boolean recorderBehind;

    private volatile Supervisor.Handle dispatcher;
    private volatile Supervisor.Handle recorder;

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
        this.lease = Duration.ofSeconds(60).compareTo(settings.attemptTimeout().multipliedBy(3)) > 0
                ? Duration.ofSeconds(60)
                : settings.attemptTimeout().multipliedBy(3);
        // One client: connections to a receiver are kept and reused across deliveries.
        this.client = new HookClient(settings.attemptTimeout());
    }

    /** Starts the recorder and the dispatcher under {@code supervisor}. */
    public void start(Supervisor supervisor) {
        recorder = supervisor.start(new Recorder());
        dispatcher = supervisor.start(new Dispatcher());
        wakeUp.connect(dispatcher::wake);
    }

    /**
     * Writes outcomes in groups: whatever finished while the previous write was being committed
     * goes into the next transaction, so a busy receiver costs one commit per group, not one per
     * delivery. An outcome that cannot be written stays here, its delivery held, and is written
     * in a later round: the store still says "pending, due now", and freeing the delivery would
     * send it again at once, as often as the store fails.
     */
    private final class Recorder implements BackgroundService {
        /** Taken from the queue, not yet written; touched only by the recorder's own thread. */
        private final Map<String, Outcome> unsaved = new LinkedHashMap<>();

        @Override
        public String name() {
            return "webhook-recorder";
        }

        @Override
        public Duration runOnce() {
            List<Outcome> taken = new ArrayList<>();
            outcomes.drainTo(taken);
            taken.forEach(o -> unsaved.put(o.delivery().id(), o));
            if (unsaved.isEmpty()) {
                return IDLE_CHECK;
            }
            Map<String, Delivery.Attempt> attempts = new LinkedHashMap<>();
            unsaved.values().forEach(o -> attempts.put(o.delivery().id(), o.attempt()));
            Set<String> lost;
            try {
                lost = store.deliveriesAttempted(claimant(), attempts);
            } catch (RuntimeException | Error e) {
                recorderBehind = true;
                throw e;
            }
            if (!lost.isEmpty()) {
                // Held past its claim (the store was away longer than a lease): another sender may
                // have sent it again; the outcome written is that one's.
                log.warn("webhooks: {} outcome(s) not recorded: their claim ran out first", lost.size());
            }
            recorderBehind = false;
            unsaved.values().forEach(o -> release(o.delivery()));
            unsaved.clear();
            wakeUp.ring();
            // An attempt that finished just now may have seen the recorder behind and not woken it.
            return outcomes.isEmpty() ? IDLE_CHECK : Duration.ZERO;
        }
    }

    /** Looks for due deliveries now (one was made due by hand). */
    public void wake() {
        wakeUp.ring();
    }

    /** Takes the due deliveries there are free slots for, and starts an attempt for each. */
    private final class Dispatcher implements BackgroundService {
        @Override
        public String name() {
            return "webhook-dispatcher";
        }

        @Override
        public Duration runOnce() throws InterruptedException {
            if (wakeUp.rang()) {
                // Let rings pile up a moment: one look at the store serves many of them, and
                // the store's lock is shared with the executions.
                Thread.sleep(GATHER);
            }
            Instant now = clock.instant();
            if (!releasedEarlierClaims) {
                int released = store.releaseDeliveryClaims(claimant());
                if (released > 0) {
                    log.info("webhooks: {} delivery claim(s) of the previous run given up, to be sent again", released);
                }
                releasedEarlierClaims = true;
            }
            if (!inFlight.isEmpty() && Duration.between(renewedAt, now).compareTo(lease.dividedBy(3)) >= 0) {
                // Only what is in flight: a claim this sender lost track of (a write reported as
                // failed that was made) runs out instead of being kept for ever.
                store.renewDeliveryClaims(claimant(), Set.copyOf(inFlight.keySet()), now.plus(lease));
                renewedAt = now;
            }
            int free = settings.maxConcurrent() - inFlight.size();
            if (free <= 0) {
                return BUSY_CHECK;
            }
            List<Delivery> due = store.claimDeliveries(
                    claimant(),
                    now,
                    now.plus(lease),
                    new Store.HookRoom(settings.maxPerHook(), Map.copyOf(perHook)),
                    free);
            boolean filledAHook = false;
            for (Delivery d : due) {
                if (inFlight.containsKey(d.id())) {
                    // Ours already (its claim ran out while its outcome waited to be written).
                    continue;
                }
                launch(d);
                filledAHook |= !hasRoom(d.hookKey());
            }
            if (filledAHook) {
                // A hook reached its cap in this round: look again without it, for the others.
                return Duration.ZERO;
            }
            if (!due.isEmpty() || !inFlight.isEmpty()) {
                return BUSY_CHECK;
            }
            // Never less than a moment: a look that finds nothing due is a write (a claim) that
            // must not repeat at once, whatever the next time says.
            return store.nextDeliveryDue()
                    .map(n -> Duration.between(clock.instant(), n))
                    .map(d -> d.compareTo(MIN_WAIT) < 0 ? MIN_WAIT : d)
                    .filter(d -> d.compareTo(IDLE_CHECK) < 0)
                    .orElse(IDLE_CHECK);
        }
    }

    private boolean hasRoom(String hookKey) {
        return perHook.getOrDefault(hookKey, 0) < settings.maxPerHook();
    }

    private void launch(Delivery d) {
        inFlight.put(d.id(), d);
        perHook.merge(d.hookKey(), 1, Integer::sum);
        try {
            Thread.ofVirtual().name("webhook-" + d.id()).start(() -> finished(d, attemptOrFailure(d)));
        } catch (RuntimeException | Error e) {
            release(d);
            throw e;
        }
    }

    private void finished(Delivery d, Delivery.Attempt attempt) {
        outcomes.add(new Outcome(d, attempt));
        Supervisor.Handle r = recorder;
        if (!recorderBehind && r != null) {
            r.wake();
        }
    }

    /** Frees the delivery's slot, once its outcome is in the store. */
    private void release(Delivery d) {
        inFlight.remove(d.id());
        perHook.computeIfPresent(d.hookKey(), (k, n) -> n <= 1 ? null : n - 1);
    }

    /** The attempt's outcome, whatever happens in it: nothing thrown by one attempt may keep its slot. */
    private Delivery.Attempt attemptOrFailure(Delivery d) {
        try {
            return attempt(d);
        } catch (Throwable t) {
            String why = truncate(Urls.mask("unexpected failure: " + describe(t)));
            log.error("webhooks: {} to {} failed: {}", describe(d), Urls.mask(d.url()), why);
            return retryOrExpire(d, OptionalInt.empty(), why, clock.instant());
        }
    }

    private Delivery.Attempt attempt(Delivery d) {
        Delivery.Attempt outcome = switch (HookUrl.parse(d.url())) {
            case HookUrl.Unusable u -> {
                // Stored before URLs were checked as the parser checks them now: it never will be sendable.
                String why = "not a usable URL: it " + u.reason();
                log.warn("webhooks: {} to {} stopped: {}", describe(d), Urls.mask(d.url()), why);
                yield new Delivery.Attempt(
                        Delivery.State.FAILED,
                        OptionalInt.empty(),
                        Optional.of(why),
                        Optional.empty(),
                        clock.instant());
            }
            case HookUrl.Usable u -> attempt(d, u.uri());
        };
        metrics.delivery(outcome.state().column());
        return outcome;
    }

    private Delivery.Attempt attempt(Delivery d, URI uri) {
        Answer answer = send(uri, d.id(), d.secretVariable(), d.payload());
        Instant at = clock.instant();
        if (answer.status().isPresent() && answer.status().getAsInt() / 100 == 2) {
            return new Delivery.Attempt(
                    Delivery.State.DELIVERED, answer.status(), Optional.empty(), Optional.empty(), at);
        }
        if (answer.status().isPresent() && answer.status().getAsInt() == 410) {
            log.warn("webhooks: {} to {} stopped: the receiver answered 410 Gone", describe(d), Urls.mask(d.url()));
            return new Delivery.Attempt(
                    Delivery.State.FAILED,
                    answer.status(),
                    Optional.of("the receiver answered 410 Gone"),
                    Optional.empty(),
                    at);
        }
        String why = answer.error().orElseGet(() -> "HTTP " + answer.status().getAsInt());
        return retryOrExpire(d, answer.status(), why, at);
    }

    private Delivery.Attempt retryOrExpire(Delivery d, OptionalInt status, String why, Instant at) {
        int attempts = d.attempts() + 1;
        Optional<Instant> next = settings.retry().next(attempts, at, d.expiresAt());
        log.warn(
                "webhooks: {} to {} failed (attempt {}): {}; {}",
                describe(d),
                Urls.mask(d.url()),
                attempts,
                why,
                next.map(n -> "next attempt at " + n).orElse("expired, no more attempts"));
        return new Delivery.Attempt(
                next.isPresent() ? Delivery.State.PENDING : Delivery.State.EXPIRED, status, Optional.of(why), next, at);
    }

    private record Answer(OptionalInt status, Optional<String> error) {}

    private Answer send(URI uri, String id, Optional<String> secretVariable, String payload) {
        byte[] body = payload.getBytes(StandardCharsets.UTF_8);
        long timestamp = clock.instant().getEpochSecond();
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
                    Optional.of("no complete answer within "
                            + settings.attemptTimeout().toSeconds() + " s"));
        } catch (IOException e) {
            String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            if (e instanceof java.net.ConnectException) {
                message = "connection refused or unreachable" + (e.getMessage() == null ? "" : ": " + e.getMessage());
            }
            return new Answer(OptionalInt.empty(), Optional.of(truncate(Urls.mask(message))));
        }
    }

    /** Sends a signed {@code ping} to a hook now, outside the outbox, and says what the receiver answered. */
    public PingResult ping(Webhooks.Hook hook, String payload) {
        Answer a = send(
                hook.spec().url(),
                "msg_ping_" + java.util.UUID.randomUUID().toString().replace("-", ""),
                hook.spec().secretVariable(),
                payload);
        return new PingResult(a.status(), a.error());
    }

    private static String describe(Delivery d) {
        return "delivery " + d.id() + " (" + d.job() + "/" + d.number() + " " + d.event() + ")";
    }

    private static String describe(Throwable t) {
        String message = t.getMessage();
        return t.getClass().getSimpleName() + (message == null || message.isBlank() ? "" : ": " + message);
    }

    private static String truncate(String text) {
        return text.length() <= MAX_ERROR ? text : text.substring(0, MAX_ERROR) + "…";
    }

    /**
     * Stops sending; attempts in flight get a few seconds and their outcomes are written, and
     * whatever is unsent stays pending for the next start.
     */
    @Override
    public void close() {
        Supervisor.Handle d = dispatcher;
        if (d != null) {
            d.close();
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (recorder != null && !inFlight.isEmpty() && System.nanoTime() < deadline) {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        Supervisor.Handle r = recorder;
        if (r != null) {
            r.close();
        }
        client.close();
    }
}
