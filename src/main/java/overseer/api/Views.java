package overseer.api;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import overseer.config.ConfigStatus;
import overseer.config.Snapshot;
import overseer.event.Urls;
import overseer.job.Action;
import overseer.job.HookSpec;
import overseer.job.JobDefinition;
import overseer.job.Problem;
import overseer.job.ScheduleIds;
import overseer.job.ScheduleSpec;
import overseer.job.VarSpec;
import overseer.schedule.Scheduler;
import overseer.store.Delivery;
import overseer.store.Event;
import overseer.store.Execution;

/**
 * The JSON shapes of the API, built as ordered maps so that field order and naming are exactly
 * what README.rst documents. Secret var defaults never leave the server.
 */
final class Views {
    private static final DateTimeFormatter TIME =
            DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

    private Views() {}

    static String time(Instant instant) {
        return TIME.format(instant);
    }

    /** What the scheduler says of a job's schedule (by job and schedule id): empty while it is not in force. */
    interface Schedules {
        Optional<Scheduler.Status> status(String job, String scheduleId);
    }

    static Map<String, Object> jobSummary(JobDefinition job, Schedules schedules) {
        Map<String, Object> view = new LinkedHashMap<>();
        view.put("name", job.name().value());
        view.put("description", job.description().orElse(null));
        view.put("vars", job.vars().stream().map(Views::var).toList());
        List<String> ids = ScheduleIds.of(job.schedules());
        List<Map<String, Object>> shown = new java.util.ArrayList<>();
        for (int i = 0; i < ids.size(); i++) {
            shown.add(schedule(
                    job.schedules().get(i),
                    ids.get(i),
                    schedules.status(job.name().value(), ids.get(i))));
        }
        view.put("schedules", shown);
        return view;
    }

    static Map<String, Object> job(JobDefinition job, Snapshot snapshot, Schedules schedules) {
        Map<String, Object> view = jobSummary(job, schedules);
        view.put("file", job.file());
        view.put("commit", snapshot.revision());
        switch (job.action()) {
            case Action.Command c -> view.put("command", c.template());
            case Action.Script s -> {
                view.put("script", s.path());
                view.put("script_args", s.arguments());
            }
            case Action.Nothing n -> {}
        }
        view.put("timeout", job.timeout().map(t -> t.toMillis() / 1000.0).orElse(null));
        view.put("env", job.env());
        view.put(
                "concurrency", job.concurrency().isPresent() ? job.concurrency().getAsInt() : null);
        view.put("overlap", job.overlap().name().toLowerCase());
        view.put("hooks", job.hooks().stream().map(Views::hook).toList());
        return view;
    }

    static Map<String, Object> var(VarSpec var) {
        Map<String, Object> view = new LinkedHashMap<>();
        view.put("name", var.name());
        view.put("type", var.type().id());
        view.put("option", var.option());
        view.put("required", var.required());
        view.put("secret", var.secret());
        if (!var.values().isEmpty()) {
            view.put("values", var.values());
        }
        var.defaultValue().ifPresent(d -> view.put("default", var.secret() ? "***" : d));
        return view;
    }

    static Map<String, Object> schedule(ScheduleSpec schedule, String id, Optional<Scheduler.Status> status) {
        Map<String, Object> view = new LinkedHashMap<>();
        view.put("id", id);
        view.put("frequency", schedule.frequency().toString());
        view.put("time", schedule.time().map(Views::time).orElse(null));
        view.put("timezone", schedule.timezone().getId());
        view.put("priority", schedule.priority());
        view.put("catchup", schedule.catchup().name().toLowerCase());
        view.put("vars", schedule.vars());
        view.put("misfire_grace", schedule.misfireGrace().toMillis() / 1000.0);
        view.put(
                "next_run",
                status.flatMap(Scheduler.Status::next).map(Views::time).orElse(null));
        view.put(
                "last_fire",
                status.flatMap(Scheduler.Status::lastFire).map(Views::time).orElse(null));
        return view;
    }

    static Map<String, Object> hook(HookSpec hook) {
        Map<String, Object> view = new LinkedHashMap<>();
        view.put("url", Urls.mask(hook.url().toString()));
        view.put("events", hook.events());
        view.put("signed", hook.secretVariable().isPresent());
        return view;
    }

    static Map<String, Object> config(ConfigStatus status, List<Problem> warnings) {
        Map<String, Object> view = new LinkedHashMap<>();
        view.put("source", status.source());
        Optional<Snapshot> active = status.active();
        view.put("commit", active.map(Snapshot::revision).orElse(null));
        view.put("applied_at", active.map(s -> time(s.appliedAt())).orElse(null));
        view.put("jobs", active.map(s -> s.jobs().size()).orElse(0));
        view.put("last_sync", status.lastSync().map(Views::time).orElse(null));
        view.put("result", status.outcome().name().toLowerCase());
        view.put("error", status.error().orElse(null));
        view.put("rejected_commit", status.rejectedRevision().orElse(null));
        view.put("problems", problems(status.problems()));
        view.put("warnings", problems(warnings));
        return view;
    }

    static Map<String, Object> execution(Execution e, String paramsJson) {
        Map<String, Object> view = new LinkedHashMap<>();
        view.put("job", e.job());
        view.put("execution", e.number());
        view.put("status", e.status());
        view.put("state", e.runState().column());
        view.put("trigger", e.trigger());
        view.put("triggered_by", e.triggeredBy().orElse(null));
        view.put("commit", e.commit());
        // The node that holds it (or held it, once it ended); none while it is queued.
        view.put("node", e.node().orElse(null));
        // The labels its node must have (its job's nodes key when it was triggered).
        view.put("node_labels", e.needs());
        view.put("created_at", time(e.createdAt()));
        view.put("started_at", e.startedAt().map(Views::time).orElse(null));
        view.put("finished_at", e.finishedAt().map(Views::time).orElse(null));
        view.put("exit_code", e.exitCode().isPresent() ? e.exitCode().getAsInt() : null);
        view.put("params", new com.fasterxml.jackson.databind.util.RawValue(paramsJson));
        view.put("rendered", e.rendered());
        view.put("priority", e.priority());
        view.put("scheduled_at", e.scheduledAt().map(Views::time).orElse(null));
        view.put("schedule", e.scheduleId().orElse(null));
        view.put("retry_of", e.retryOf().isPresent() ? e.retryOf().getAsLong() : null);
        view.put("not_before", e.notBefore().map(Views::time).orElse(null));
        view.put(
                "retry_error",
                e.retryError()
                        .map(r -> Map.<String, Object>of("cause", r.cause(), "at", time(r.at())))
                        .orElse(null));
        view.put("url", "/jobs/" + e.job() + "/" + e.number());
        return view;
    }

    /** An execution with its events, each with the webhook deliveries it made. */
    static Map<String, Object> execution(Execution e, List<Event> events, List<Delivery> deliveries) {
        Map<String, Object> view = execution(e, e.paramsJson());
        List<Map<String, Object>> shown = new java.util.ArrayList<>();
        for (int i = 0; i < events.size(); i++) {
            long seq = i + 1;
            Map<String, Object> event = event(events.get(i));
            event.put(
                    "deliveries",
                    deliveries.stream()
                            .filter(d -> d.seq() == seq)
                            .map(Views::deliveryAttempts)
                            .toList());
            shown.add(event);
        }
        view.put("events", shown);
        return view;
    }

    /** A delivery as listed under its event: where to, and how its attempts went. */
    static Map<String, Object> deliveryAttempts(Delivery d) {
        Map<String, Object> view = new LinkedHashMap<>();
        view.put("id", d.id());
        view.put("url", Urls.mask(d.url()));
        view.put("state", d.state().column());
        view.put("attempts", d.attempts());
        view.put("last_status", d.lastStatus().isPresent() ? d.lastStatus().getAsInt() : null);
        view.put("last_error", d.lastError().orElse(null));
        view.put("next_attempt_at", d.nextAttemptAt().map(Views::time).orElse(null));
        view.put("finished_at", d.finishedAt().map(Views::time).orElse(null));
        return view;
    }

    /** A delivery on its own ({@code GET /deliveries}): also which execution and event it is for. */
    static Map<String, Object> delivery(Delivery d) {
        Map<String, Object> view = new LinkedHashMap<>();
        view.put("id", d.id());
        view.put("job", d.job());
        view.put("execution", d.number());
        view.put("event", d.event());
        view.putAll(deliveryAttempts(d));
        view.put("created_at", time(d.createdAt()));
        view.put("expires_at", time(d.expiresAt()));
        view.put("execution_url", "/jobs/" + d.job() + "/" + d.number());
        return view;
    }

    static Map<String, Object> execution(Execution e) {
        return execution(e, e.paramsJson());
    }

    /** One execution of a retry chain, as listed on each of them. */
    static Map<String, Object> chainLink(Execution e) {
        Map<String, Object> view = new LinkedHashMap<>();
        view.put("execution", e.number());
        view.put("trigger", e.trigger());
        view.put("status", e.status());
        view.put("state", e.runState().column());
        view.put("not_before", e.notBefore().map(Views::time).orElse(null));
        view.put("url", "/jobs/" + e.job() + "/" + e.number());
        return view;
    }

    static Map<String, Object> event(Event event) {
        Map<String, Object> view = new LinkedHashMap<>();
        view.put("name", event.name());
        view.put("cause", event.cause().orElse(null));
        view.put("at", time(event.at()));
        view.put("source", event.source());
        return view;
    }

    static List<Map<String, Object>> problems(List<Problem> problems) {
        return problems.stream()
                .map(p -> {
                    Map<String, Object> view = new LinkedHashMap<>();
                    view.put("file", p.file());
                    view.put("line", p.line());
                    view.put("column", p.column());
                    view.put("message", p.message());
                    view.put("text", p.toString());
                    return view;
                })
                .toList();
    }
}
