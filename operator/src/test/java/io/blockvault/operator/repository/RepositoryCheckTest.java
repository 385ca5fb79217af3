package io.blockvault.operator.repository;

import static org.assertj.core.api.Assertions.assertThat;

import io.blockvault.operator.status.Conditions;
import io.blockvault.repository.client.RepositoryStats;
import io.fabric8.kubernetes.api.model.Condition;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The BackupRepository conditions that the repository's figures give (pure logic). */
class RepositoryCheckTest {

    static RepositoryStats stats(Optional<String> warning, Optional<String> frozen) {
        return new RepositoryStats(1000, 400, 600, 300, 900, 3, 3, Optional.of(Instant.EPOCH), 30, warning, frozen);
    }

    static List<Condition> conditions(RepositoryStats st) {
        Conditions c = Conditions.after(List.of(), 1L, Instant.EPOCH);
        new RepositoryCheck("main", "operator", Optional.of(st), Optional.empty()).setConditions(c, true);
        return c.build();
    }

    @Test
    void aFrozenGuardClockIsDegradedWithItsReasonAndTheWayOut() {
        List<Condition> frozen = conditions(stats(Optional.of("a warning"),
                Optional.of("since 2026-12-07T10:00:00Z: the system clock is 90000 s off the trusted clock now")));
        assertThat(Conditions.reason(frozen, Conditions.DEGRADED)).isEqualTo(RepositoryCheck.CLOCK_FROZEN);
        assertThat(Conditions.isTrue(frozen, Conditions.DEGRADED)).isTrue();
        assertThat(Conditions.isTrue(frozen, Conditions.READY)).as("backups still run").isTrue();
        assertThat(frozen).filteredOn(c -> c.getType().equals(Conditions.DEGRADED)).singleElement()
                .satisfies(c -> assertThat(c.getMessage()).contains("90000 s off", "deletes nothing", "clock-accept"));

        List<Condition> warned = conditions(stats(Optional.of("a warning"), Optional.empty()));
        assertThat(Conditions.reason(warned, Conditions.DEGRADED)).isEqualTo(RepositoryCheck.CLOCK_WARNING);
        List<Condition> fine = conditions(stats(Optional.empty(), Optional.empty()));
        assertThat(Conditions.isTrue(fine, Conditions.DEGRADED)).isFalse();
    }
}
