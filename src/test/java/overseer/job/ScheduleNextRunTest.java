package overseer.job;

import static org.assertj.core.api.Assertions.assertThat;

import com.cronutils.model.CronType;
import com.cronutils.model.definition.CronDefinitionBuilder;
import com.cronutils.parser.CronParser;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ScheduleNextRunTest {
    private static ScheduleSpec schedule(Frequency frequency, Optional<Instant> time, String zone) {
        return new ScheduleSpec(
                frequency, time, 0, ZoneId.of(zone), Map.of(), Catchup.LAST, ScheduleSpec.DEFAULT_MISFIRE_GRACE);
    }

    private static Frequency cron(String expression) {
        return new Frequency.CronExpression(
                expression,
                new CronParser(CronDefinitionBuilder.instanceDefinitionFor(CronType.UNIX)).parse(expression));
    }

    @Test
    void periodCountsFromItsStartTime() {
        Instant start = Instant.parse("2026-01-01T00:00:00Z");
        ScheduleSpec every90s = schedule(new Frequency.Period(Duration.ofSeconds(90)), Optional.of(start), "UTC");
        assertThat(every90s.nextRun(Instant.parse("2025-12-31T23:00:00Z"))).contains(start);
        assertThat(every90s.nextRun(start)).contains(Instant.parse("2026-01-01T00:01:30Z"));
        assertThat(every90s.nextRun(Instant.parse("2026-01-01T00:02:59Z")))
                .contains(Instant.parse("2026-01-01T00:03:00Z"));
    }

    @Test
    void cronFollowsTheScheduleTimeZone() {
        ScheduleSpec berlin = schedule(cron("30 2 * * *"), Optional.empty(), "Europe/Berlin");
        // 02:30 in Berlin is 01:30 UTC in winter.
        assertThat(berlin.nextRun(Instant.parse("2026-11-25T12:00:00Z")))
                .contains(Instant.parse("2026-11-26T01:30:00Z"));
    }

    @Test
    void cronDoesNotFireBeforeItsStartTime() {
        ScheduleSpec hourly = schedule(cron("0 * * * *"), Optional.of(Instant.parse("2027-03-01T10:00:00Z")), "UTC");
        assertThat(hourly.nextRun(Instant.parse("2026-11-25T12:00:00Z")))
                .contains(Instant.parse("2027-03-01T10:00:00Z"));
        assertThat(hourly.nextRun(Instant.parse("2027-03-01T10:00:00Z")))
                .contains(Instant.parse("2027-03-01T11:00:00Z"));
    }

    @Test
    void leapDaysAndEndsOfMonthAreFoundWhereTheyExist() {
        ScheduleSpec leap = schedule(cron("0 6 29 2 *"), Optional.empty(), "UTC");
        assertThat(leap.nextRun(Instant.parse("2026-11-25T00:00:00Z"))).contains(Instant.parse("2028-02-29T06:00:00Z"));
        ScheduleSpec thirtyFirst = schedule(cron("0 12 31 * *"), Optional.empty(), "America/New_York");
        assertThat(thirtyFirst.nextRun(Instant.parse("2026-11-01T00:00:00Z")))
                .contains(Instant.parse("2026-12-31T17:00:00Z"));
        ScheduleSpec lastDay = schedule(
                new Frequency.CronExpression(
                        "0 0 12 L * ?",
                        new CronParser(CronDefinitionBuilder.instanceDefinitionFor(CronType.QUARTZ))
                                .parse("0 0 12 L * ?")),
                Optional.empty(),
                "UTC");
        assertThat(lastDay.nextRun(Instant.parse("2028-02-01T00:00:00Z")))
                .contains(Instant.parse("2028-02-29T12:00:00Z"));
    }

    @Test
    void aWallClockTimeInTheSpringGapFiresAfterItAndOneInTheRepeatedHourOnce() {
        ScheduleSpec berlin = schedule(cron("30 2 * * *"), Optional.empty(), "Europe/Berlin");
        assertThat(berlin.nextRun(Instant.parse("2026-03-28T12:00:00Z")))
                .contains(Instant.parse("2026-03-29T01:30:00Z"));
        assertThat(berlin.nextRun(Instant.parse("2026-10-24T12:00:00Z")))
                .contains(Instant.parse("2026-10-25T00:30:00Z"));
        // From inside the repeated hour, the next 02:30 is the next day's.
        assertThat(berlin.nextRun(Instant.parse("2026-10-25T01:15:00Z")))
                .contains(Instant.parse("2026-10-26T01:30:00Z"));
    }
}
