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
 * trusted time, its lock period, and the last clock warning. The transport uses it for clear
 * "locked until" errors; the guard itself never reads it back.
 */
public record GuardStatus(long trustedNowMillis, long publishedWallMillis, int lockDays, String clockWarning) {

    public String toProperties() {
        Properties p = new Properties();
        p.setProperty("trustedNowMillis", Long.toString(trustedNowMillis));
        p.setProperty("publishedWallMillis", Long.toString(publishedWallMillis));
        p.setProperty("lockDays", Integer.toString(lockDays));
        p.setProperty("clockWarning", clockWarning);
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
                    Integer.parseInt(p.getProperty("lockDays", "0")), p.getProperty("clockWarning", "")));
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }
}
