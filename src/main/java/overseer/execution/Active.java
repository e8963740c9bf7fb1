package overseer.execution;

import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import overseer.config.CheckoutLease;
import overseer.store.Execution;

/** An execution that is queued or running, with what the engine needs to start and signal it. */
final class Active {
    private final Execution execution;
    private final LaunchSpec spec;
    private final CheckoutLease lease;
    private final String token;
    private final CompletableFuture<Long> pid = new CompletableFuture<>();
    private final CompletableFuture<Void> done = new CompletableFuture<>();
    /** Set once an execution was chosen to be killed by the {@code replace} overlap policy. */
    volatile boolean replaced;

    Active(Execution execution, LaunchSpec spec, CheckoutLease lease, String token) {
        this.execution = execution;
        this.spec = spec;
        this.lease = lease;
        this.token = token;
    }

    Execution execution() {
        return execution;
    }

    String job() {
        return execution.job();
    }

    long number() {
        return execution.number();
    }

    String key() {
        return execution.job() + "/" + execution.number();
    }

    int priority() {
        return execution.priority();
    }

    Instant createdAt() {
        return execution.createdAt();
    }

    String runId() {
        return execution.runId();
    }

    LaunchSpec spec() {
        return spec;
    }

    CheckoutLease lease() {
        return lease;
    }

    String token() {
        return token;
    }

    /** The process group id once started; 0 when nothing was started. */
    CompletableFuture<Long> pid() {
        return pid;
    }

    CompletableFuture<Void> done() {
        return done;
    }
}
