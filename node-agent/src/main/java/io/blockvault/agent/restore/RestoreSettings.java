package io.blockvault.agent.restore;

import java.nio.file.Path;

/**
 * Where and how to restore.
 *
 * @param target           block device or file (a missing file is created sparse)
 * @param force            write even though the target device is mounted
 * @param quickRollback    rewrite only chunks changed since the point when CBT allows
 * @param fetchesInFlight  concurrent chunk streams from the repository
 * @param directIo         write with O_DIRECT where supported
 */
public record RestoreSettings(Path target, boolean force, boolean quickRollback, int fetchesInFlight,
        boolean directIo) {
}
