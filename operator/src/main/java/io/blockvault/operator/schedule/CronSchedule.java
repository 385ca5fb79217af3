package io.blockvault.operator.schedule;

import com.cronutils.model.Cron;
import com.cronutils.model.CronType;
import com.cronutils.model.definition.CronDefinitionBuilder;
import com.cronutils.model.time.ExecutionTime;
import com.cronutils.parser.CronParser;
import java.time.DateTimeException;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.temporal.ChronoUnit;
import java.time.zone.ZoneOffsetTransition;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/** A five-field Unix cron expression evaluated in a time zone, like a CronJob with {@code timeZone}. */
public final class CronSchedule {

    private static final Map<String, String> MACROS = Map.of(
            "@yearly", "0 0 1 1 *", "@annually", "0 0 1 1 *", "@monthly", "0 0 1 * *",
            "@weekly", "0 0 * * 0", "@daily", "0 0 * * *", "@midnight", "0 0 * * *", "@hourly", "0 * * * *");

    private final String expression;
    private final ZoneId zone;
    private final ExecutionTime executionTime;

    private CronSchedule(String expression, ZoneId zone, ExecutionTime executionTime) {
        this.expression = expression;
        this.zone = zone;
        this.executionTime = executionTime;
    }

    /**
     * Parses {@code expression} (five fields or a macro such as {@code @daily}) in {@code timeZone}
     * (UTC when null or empty).
     */
    public static CronSchedule parse(String expression, String timeZone) throws InvalidScheduleException {
        ZoneId zone;
        try {
            zone = timeZone == null || timeZone.isBlank() ? ZoneId.of("UTC") : ZoneId.of(timeZone);
        } catch (DateTimeException e) {
            throw new InvalidScheduleException("InvalidTimeZone", "spec.timeZone '" + timeZone
                    + "' is not a time zone this operator knows (" + e.getMessage()
                    + "); use an IANA name such as Europe/Berlin or UTC");
        }
        String trimmed = expression == null ? "" : expression.trim();
        String fields = MACROS.getOrDefault(trimmed.toLowerCase(Locale.ROOT), trimmed);
        try {
            // A fresh parser per call: cron-utils parsers are cheap, and nothing static is shared.
            Cron cron = new CronParser(CronDefinitionBuilder.instanceDefinitionFor(CronType.UNIX)).parse(fields);
            cron.validate();
            return new CronSchedule(trimmed, zone, ExecutionTime.forCron(cron));
        } catch (IllegalArgumentException e) {
            throw new InvalidScheduleException("InvalidSchedule", "spec.schedule '" + expression
                    + "' is not a valid cron expression (" + e.getMessage()
                    + "); write five fields (minute hour day-of-month month day-of-week) such as '30 1 * * *'");
        }
    }

    public String expression() {
        return expression;
    }

    public ZoneId zone() {
        return zone;
    }

    /**
     * The first run strictly after {@code instant}. A run whose local time falls into a daylight
     * saving gap (02:30 on the night the clocks jump from 02:00 to 03:00) happens at the jump, as
     * Vixie cron does it: a nightly backup is never silently skipped.
     */
    public Optional<Instant> next(Instant instant) {
        Optional<Instant> regular = executionTime.nextExecution(instant.atZone(zone)).map(ZonedDateTime::toInstant);
        ZoneOffsetTransition transition = zone.getRules().nextTransition(instant);
        if (transition != null && transition.isGap() && matchesInGap(transition)
                && (regular.isEmpty() || transition.getInstant().isBefore(regular.get()))) {
            return Optional.of(transition.getInstant());
        }
        return regular;
    }

    /** The latest run at or before {@code instant}, with the same daylight saving rule as {@link #next}. */
    public Optional<Instant> latestAtOrBefore(Instant instant) {
        ZonedDateTime at = instant.atZone(zone);
        ZonedDateTime minute = at.truncatedTo(ChronoUnit.MINUTES);
        Optional<Instant> regular = executionTime.isMatch(minute) ? Optional.of(minute.toInstant())
                : executionTime.lastExecution(at).map(ZonedDateTime::toInstant);
        ZoneOffsetTransition transition = zone.getRules().previousTransition(instant.plusNanos(1));
        if (transition != null && transition.isGap() && matchesInGap(transition)
                && (regular.isEmpty() || transition.getInstant().isAfter(regular.get()))) {
            return Optional.of(transition.getInstant());
        }
        return regular;
    }

    /** Whether a local time skipped by {@code gap} matches the expression. */
    private boolean matchesInGap(ZoneOffsetTransition gap) {
        for (LocalDateTime local = gap.getDateTimeBefore(); local.isBefore(gap.getDateTimeAfter());
                local = local.plusMinutes(1)) {
            // UTC has no gaps: it lets the expression see the wall-clock time that never happened.
            if (executionTime.isMatch(local.atZone(ZoneOffset.UTC))) {
                return true;
            }
        }
        return false;
    }

    @Override
    public String toString() {
        return expression + " (" + zone + ")";
    }
}
