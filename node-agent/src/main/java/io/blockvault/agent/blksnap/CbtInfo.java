package io.blockvault.agent.blksnap;

import java.util.HexFormat;

/**
 * State of a device's change tracker. A backup taken when {@code changesNumber} was k in
 * generation G can be followed by an incremental only while the generation is still G.
 */
public record CbtInfo(long capacityBytes, int blockSizeBytes, int blockCount, byte[] generationId,
        int changesNumber) {

    public CbtInfo {
        generationId = generationId.clone();
    }

    @Override
    public byte[] generationId() {
        return generationId.clone();
    }

    public String generationHex() {
        return HexFormat.of().formatHex(generationId);
    }
}
