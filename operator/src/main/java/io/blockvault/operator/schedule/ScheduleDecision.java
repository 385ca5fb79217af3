package io.blockvault.operator.schedule;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * What a policy's schedule asks for now, decided like the CronJob controller does: only the most
 * recent missed run is considered; it runs unless it is older than {@code startingDeadlineSeconds}.
 *
 * @param run the schedule time to back up now, if any
 * @param missed a schedule time that was missed and is too late to start
 * @param next the first schedule time after now
 */
public record ScheduleDecision(Optional<Instant> run, Optional<Instant> missed, Optional<Instant> next) {

    /**
     * @param schedule the policy's schedule
     * @param lastHandled the last schedule time already backed up (or the policy's creation time)
     * @param now the clock's time
     * @param startingDeadlineSeconds the policy's deadline, or null for none
     */
    public static ScheduleDecision decide(CronSchedule schedule, Instant lastHandled, Instant now,
            Long startingDeadlineSeconds) {
        Optional<Instant> next = schedule.next(now);
        Optional<Instant> latest = schedule.latestAtOrBefore(now).filter(t -> t.isAfter(lastHandled));
        if (latest.isEmpty()) {
            return new ScheduleDecision(Optional.empty(), Optional.empty(), next);
        }
        if (startingDeadlineSeconds != null
                && Duration.between(latest.get(), now).compareTo(Duration.ofSeconds(startingDeadlineSeconds)) > 0) {
            return new ScheduleDecision(Optional.empty(), latest, next);
        }
        return new ScheduleDecision(latest, Optional.empty(), next);
    }
}
