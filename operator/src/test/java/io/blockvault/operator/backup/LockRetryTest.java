package io.blockvault.operator.backup;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** When the finalizer asks again for a locked restore point's deletion. */
class LockRetryTest {

    private static final Instant NOW = Instant.parse("2026-03-01T00:00:00Z");

    @Test
    void shortlyAfterTheLockEndsWithinTheHourElseHourly() {
        assertThat(BackupReconciler.lockRetry(Optional.of(NOW.plus(Duration.ofDays(7))), NOW))
                .isEqualTo(Duration.ofHours(1));
        assertThat(BackupReconciler.lockRetry(Optional.of(NOW.plus(Duration.ofMinutes(10))), NOW))
                .isEqualTo(Duration.ofMinutes(10).plusSeconds(30));
        assertThat(BackupReconciler.lockRetry(Optional.of(NOW.minusSeconds(5)), NOW)).isEqualTo(Duration.ofSeconds(30));
        // not sealed yet: the guard seals within seconds, then the lock's end is known
        assertThat(BackupReconciler.lockRetry(Optional.empty(), NOW)).isEqualTo(Duration.ofMinutes(1));
    }
}
