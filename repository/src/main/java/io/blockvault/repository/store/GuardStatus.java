package io.blockvault.repository.store;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Properties;

/**
 * What the guard publishes for the transport (world-readable, written only by the guard): its
 * trusted time, its lock period, the last clock warning, the part of trusted time that the
 * configuration added, and whether the clock is frozen. The transport uses it for clear "locked
 * until" errors and refuses deletion while frozen; the guard itself never reads it back.
 *
 * @param frozenReason why the trusted clock is frozen (the guard deletes nothing); empty when it is not
 */
public record GuardStatus(long trustedNowMillis, long publishedWallMillis, int lockDays, String clockWarning,
        long advanceSeconds, String frozenReason) {

    public boolean frozen() {
        return !frozenReason.isEmpty();
    }

    public String toProperties() {
        Properties p = new Properties();
        p.setProperty("trustedNowMillis", Long.toString(trustedNowMillis));
        p.setProperty("publishedWallMillis", Long.toString(publishedWallMillis));
        p.setProperty("lockDays", Integer.toString(lockDays));
        p.setProperty("clockWarning", clockWarning);
        p.setProperty("advanceSeconds", Long.toString(advanceSeconds));
        p.setProperty("frozenReason", frozenReason);
        StringWriter w = new StringWriter();
        try {
            p.store(w, "written by the blockvault guard");
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return w.toString();
    }

    public static Optional<GuardStatus> read(Path file) throws IOException {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.ISO_8859_1);
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
        Properties p = new Properties();
        p.load(new StringReader(text));
        try {
            return Optional.of(new GuardStatus(Long.parseLong(p.getProperty("trustedNowMillis", "0")),
                    Long.parseLong(p.getProperty("publishedWallMillis", "0")),
                    Integer.parseInt(p.getProperty("lockDays", "0")), p.getProperty("clockWarning", ""),
                    Long.parseLong(p.getProperty("advanceSeconds", "0")), p.getProperty("frozenReason", "")));
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }
}
