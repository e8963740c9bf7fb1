package overseer.store;

import java.time.Instant;
import java.util.Optional;

/**
 * What the store keeps of one schedule: {@code anchor}, when it was first activated (a period
 * without {@code time} counts from it); {@code cursor}, up to when its fires have been dealt with
 * (fired, skipped, or passed over while its job was disabled); and its last fire.
 */
public record ScheduleState(Instant anchor, Instant cursor, Optional<Instant> lastFire) {}
