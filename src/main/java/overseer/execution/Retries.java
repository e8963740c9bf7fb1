package overseer.execution;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import overseer.config.CheckoutLease;
import overseer.config.ConfigSync;
import overseer.store.Event;
import overseer.store.Execution;
import overseer.store.NewExecution;
import overseer.store.Store;
import overseer.store.StoreException;

/**
 * Retries (SPEC section 2, {@code retry}): when an execution ends with an event its job's policy
 * retries, and no caller asked it to end, a new execution with trigger {@code retry} is stored
 * before the end is recorded, with the same params, command and commit (its checkout held until
 * then) and {@code retry_of} naming the first of the chain. It waits in the queue until
 * {@code delay × backoff^k} has passed; stored, it survives a restart. A retry that cannot be
 * queued (the queue is full, the store fails) is recorded as the ending execution's
 * {@code retry_error}, written with its end.
 */
final class Retries {
    private static final Logger log = LoggerFactory.getLogger(Retries.class);

    private final Store store;
    private final ConfigSync config;
    private final Engine engine;
    private final ObjectMapper json;
    private final Clock clock;

    Retries(Store store, ConfigSync config, Engine engine, ObjectMapper json, Clock clock) {
        this.store = store;
        this.config = config;
        this.engine = engine;
        this.json = json;
        this.clock = clock;
    }

    /** Called with an execution's final event just before it is recorded. */
    void ending(Unfinished u, Event last) {
        LaunchSpec.Retry policy = u.spec().retry();
        if (policy == null || !policy.on().contains(last.name()) || u.endRequested()) {
            return;
        }
        long first = u.execution().retryOf().orElse(u.number());
        int done;
        try {
            done = store.retryChain(u.job(), first).size() - 1;
        } catch (StoreException e) {
            notRetried(u, "retry not queued: " + e.getMessage());
            return;
        }
        if (done >= policy.times()) {
            log.info("execution: {} ended {}; its {} retries are used up", u.key(), last.name(), policy.times());
            return;
        }
        Instant now = clock.instant();
        Instant notBefore = now.plusMillis((long) (policy.delayMillis() * Math.pow(policy.backoff(), done)));
        Optional<Admission.Claim> claim;
        try {
            claim = Optional.of(engine.admission().reserve(u.job()));
        } catch (Refused e) {
            // Shutting down: stored only, the next start queues it.
            claim = Optional.empty();
        }
        CheckoutLease lease = null;
        String runId = UUID.randomUUID().toString();
        engine.admitting(runId);
        try {
            lease = config.hold(u.execution().commit());
            String launch = json.writeValueAsString(u.spec());
            NewExecution retry = new NewExecution(
                    u.job(),
                    "retry",
                    u.execution().commit(),
                    now,
                    u.execution().paramsJson(),
                    "{}",
                    u.priority(),
                    u.execution().scheduledAt(),
                    runId,
                    Optional.empty(),
                    NewExecution.Origin.retry(first, notBefore).by(u.execution().triggeredBy()),
                    n -> new NewExecution.Prepared(
                            u.execution().rendered(),
                            launch,
                            u.spec().limit(),
                            u.spec().nodes()));
            Event queued = Event.of(
                    "queued",
                    "retry " + (done + 1) + " of " + policy.times() + " after '" + last.name() + "' of execution "
                            + u.number(),
                    now,
                    "overseer");
            Store.Created created;
            try {
                // The queue's bound applies; its job's concurrency, which its first execution's
                // place counted, applies when it starts.
                switch (store.createAll(List.of(new Store.Insert(retry, queued, Optional.empty())
                                .admittedUnder(
                                        Store.Admit.retry(engine.admission().maxQueued()), Optional.empty())))
                        .getFirst()) {
                    case Store.Inserted.Done made -> created = made.created();
                    case Store.Inserted.Refused(Store.Refusal refusal) -> {
                        claim.ifPresent(engine.admission()::withdraw);
                        lease.close();
                        notRetried(
                                u,
                                "retry " + (done + 1) + " of " + policy.times() + " not queued: "
                                        + Refused.of(u.job(), refusal).getMessage());
                        return;
                    }
                    case Store.Inserted.Failed(RuntimeException e) -> throw e;
                }
            } catch (StoreException e) {
                created =
                        new Store.Created(RecordedAfterAll.find(store, retry, e).orElseThrow(() -> e), false);
            }
            log.info(
                    "execution: {} ended {}; retry {} of {} is {}/{}, not before {}",
                    u.key(),
                    last.name(),
                    done + 1,
                    policy.times(),
                    u.job(),
                    created.execution().number(),
                    notBefore);
            if (claim.isPresent()) {
                engine.enqueue(claim.get(), engine.hold(created.execution(), u.spec(), lease), Store.Replaced.NONE);
            } else {
                lease.close();
            }
        } catch (JsonProcessingException | RuntimeException e) {
            claim.ifPresent(engine.admission()::withdraw);
            if (lease != null) {
                lease.close();
            }
            notRetried(u, "retry " + (done + 1) + " of " + policy.times() + " not queued: " + e.getMessage());
        } finally {
            engine.admitted(runId);
        }
    }

    /** Keeps why on the execution, to be recorded with its end: it has no other place once finished. */
    private void notRetried(Unfinished u, String cause) {
        log.error("execution: {} not retried: {}", u.key(), cause);
        u.retryError(new Execution.RetryError(cause, clock.instant()));
    }
}
