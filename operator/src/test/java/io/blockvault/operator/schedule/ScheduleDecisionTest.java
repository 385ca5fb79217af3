package io.blockvault.operator.schedule;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import org.junit.jupiter.api.Test;

class ScheduleDecisionTest {

    private static final Instant T = Instant.parse("2026-03-01T10:00:00Z");

    private static CronSchedule hourly() throws InvalidScheduleException {
        return CronSchedule.parse("0 * * * *", "UTC");
    }

    @Test
    void nothingToDoBetweenTicks() throws Exception {
        ScheduleDecision d = ScheduleDecision.decide(hourly(), T, T.plusSeconds(1800), null);
        assertThat(d.run()).isEmpty();
        assertThat(d.missed()).isEmpty();
        assertThat(d.next()).contains(T.plusSeconds(3600));
    }

    @Test
    void aTickThatPassedRunsOnceAndOnlyTheLatestOfSeveral() throws Exception {
        assertThat(ScheduleDecision.decide(hourly(), T, T.plusSeconds(3605), null).run())
                .contains(T.plusSeconds(3600));
        // Three ticks missed while the operator was down: only the latest (like a CronJob).
        assertThat(ScheduleDecision.decide(hourly(), T, T.plusSeconds(3 * 3600 + 5), null).run())
                .contains(T.plusSeconds(3 * 3600));
        // Already handled: nothing again.
        assertThat(ScheduleDecision.decide(hourly(), T.plusSeconds(3600), T.plusSeconds(3605), null).run())
                .isEmpty();
    }

    @Test
    void startingDeadlineSkipsARunThatIsTooLate() throws Exception {
        ScheduleDecision late = ScheduleDecision.decide(hourly(), T, T.plusSeconds(3600 + 301), 300L);
        assertThat(late.run()).isEmpty();
        assertThat(late.missed()).contains(T.plusSeconds(3600));
        assertThat(ScheduleDecision.decide(hourly(), T, T.plusSeconds(3600 + 300), 300L).run())
                .contains(T.plusSeconds(3600));
    }
}
