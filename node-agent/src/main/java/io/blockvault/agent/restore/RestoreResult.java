package io.blockvault.agent.restore;

import java.util.List;

/** What one restore did. */
public record RestoreResult(String node, String pointId, String target, long deviceSizeBytes, long writtenBytes,
        long chunksRewritten, long chunksTotal, boolean quickRollback, String planReason, long durationMillis,
        boolean directIo, List<String> notes) {

    public RestoreResult {
        notes = List.copyOf(notes);
    }
}
