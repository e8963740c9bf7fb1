package overseer.execution;

import java.util.Optional;
import overseer.event.EventPipe;
import overseer.store.StoreException;

/**
 * Events that jobs send with the {@code event} helper, recorded like {@code PUT /jobs/<job>/<n>}
 * with the execution's own token: a job can raise events on its own execution only.
 */
public final class JobEvents implements EventPipe.Handler {
    private final Executions executions;

    public JobEvents(Executions executions) {
        this.executions = executions;
    }

    @Override
    public Optional<String> handle(EventPipe.Request r) {
        if (!executions.tokenMatches(r.job(), r.execution(), r.token())) {
            return Optional.of("execution " + r.job() + "/" + r.execution()
                    + " is not running, or OVERSEER_TOKEN is not its token");
        }
        try {
            executions.event(r.job(), r.execution(), r.name(), r.cause(), "job");
            return Optional.empty();
        } catch (Refused e) {
            return Optional.of(e.getMessage());
        } catch (StoreException e) {
            return Optional.of("not recorded: " + e.getMessage());
        }
    }
}
