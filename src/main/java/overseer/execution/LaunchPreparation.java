package overseer.execution;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import overseer.config.Snapshot;
import overseer.job.HookSpec;
import overseer.job.JobDefinition;
import overseer.job.VarSpec;
import overseer.template.RenderException;
import overseer.template.Rendered;
import overseer.template.Renderer;

/**
 * Turns a job and its bound params into what its execution is stored and started with: the params
 * as shown (secrets {@code ***}) and the {@link LaunchSpec} with the command rendered once, for
 * the execution's number. The launch spec is the one place secret values are kept, until the
 * execution ends.
 */
final class LaunchPreparation {
    private final Renderer renderer;

    LaunchPreparation(Renderer renderer) {
        this.renderer = renderer;
    }

    /** Everything but the rendered command, which needs the execution's number. */
    record Prepared(
            JobDefinition job,
            Map<String, Object> values,
            Map<String, Object> shown,
            Map<String, String> env,
            List<String> masked,
            List<String> hiddenEnv) {}

    /** The launch spec, the command as the API shows it, and whether it depends on the number. */
    record Launch(LaunchSpec spec, String display, boolean usesNumber) {}

    Prepared prepare(Snapshot snapshot, JobDefinition job, Map<String, Object> values) {
        Map<String, Object> shown = new LinkedHashMap<>(values);
        List<String> masked = new ArrayList<>();
        for (VarSpec v : job.vars()) {
            if (v.secret() && values.containsKey(v.name())) {
                shown.put(v.name(), "***");
                if (values.get(v.name()) != null) {
                    masked.addAll(renderer.secretTexts(values.get(v.name())));
                }
            }
        }
        Map<String, String> env = new LinkedHashMap<>(job.env());
        env.putAll(varEnvironment(renderer, values));
        List<String> hidden = new ArrayList<>();
        for (HookSpec h : snapshot.settings().hooks()) {
            h.secretVariable().ifPresent(hidden::add);
        }
        for (HookSpec h : job.hooks()) {
            h.secretVariable().ifPresent(hidden::add);
        }
        return new Prepared(job, values, shown, env, masked, hidden);
    }

    /** Each var with a value as {@code OVERSEER_VAR_<name>}, as the job sees it. */
    static Map<String, String> varEnvironment(Renderer renderer, Map<String, Object> values) {
        Map<String, String> env = new LinkedHashMap<>();
        values.forEach((name, value) -> {
            if (value != null) {
                env.put("OVERSEER_VAR_" + name, renderer.text(value));
            }
        });
        return env;
    }

    Launch render(Prepared p, long number, String commit) throws RenderException {
        JobDefinition job = p.job();
        Rendered r = renderer.render(
                job.action(),
                job.vars(),
                p.values(),
                new Renderer.Builtins(job.name().value(), number, commit),
                "scripts");
        LaunchSpec spec = new LaunchSpec(
                r.argv(),
                p.env(),
                job.timeout().map(Duration::toMillis).orElse(null),
                job.concurrency().isPresent() ? job.concurrency().getAsInt() : null,
                job.overlap().name().toLowerCase(),
                p.masked(),
                p.hiddenEnv(),
                job.retry()
                        .map(t -> new LaunchSpec.Retry(
                                t.times(),
                                t.delay().toMillis(),
                                t.backoff(),
                                List.copyOf(new java.util.TreeSet<>(t.on()))))
                        .orElse(null),
                job.streams() == overseer.job.Streams.MERGED ? Boolean.TRUE : null,
                job.nodes());
        return new Launch(spec, r.display(), r.usesNumber());
    }
}
