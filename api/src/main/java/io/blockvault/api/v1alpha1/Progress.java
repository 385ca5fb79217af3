package io.blockvault.api.v1alpha1;

/** Progress of a long transfer; bytes are device bytes unless the name says otherwise. */
public record Progress(
        Long totalBytes,
        Long scannedBytes,
        Long changedBytes,
        Long sentBytes,
        Integer percent,
        Long bytesPerSecond,
        Long etaSeconds,
        String updateTime) {
}
