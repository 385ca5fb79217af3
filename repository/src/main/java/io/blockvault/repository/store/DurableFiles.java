package io.blockvault.repository.store;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.UUID;

/**
 * Crash-safe file creation: write to a temp name, fsync, hard-link to the final name (fails if it
 * exists, so nothing is ever replaced or rewritten in place), remove the temp name, fsync the
 * directory. A crash leaves either no file or the complete one (plus a temp file, which the owner
 * removes at start).
 */
public final class DurableFiles {

    /** Writes the content of a file. */
    @FunctionalInterface
    public interface Content {
        void writeTo(OutputStream out) throws IOException;
    }

    private DurableFiles() {
    }

    /** Creates {@code target} with the given content; returns false (and writes nothing) when it exists. */
    public static boolean createNew(Path target, Path tmpDir, Content content) throws IOException {
        return createNew(target, tmpDir, content, true);
    }

    /**
     * As {@link #createNew(Path, Path, Content)}; with {@code syncDirectory} false the caller takes on
     * fsyncing the target's directory before anything depends on the new name (the transport does
     * it once per commit instead of once per chunk).
     */
    public static boolean createNew(Path target, Path tmpDir, Content content, boolean syncDirectory)
            throws IOException {
        if (Files.exists(target)) {
            return false;
        }
        Path tmp = tmpDir.resolve(target.getFileName() + "." + UUID.randomUUID() + ".tmp");
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                OutputStream out = Channels.newOutputStream(ch);
                content.writeTo(out);
                out.flush();
                ch.force(true);
            }
            return publish(tmp, target, syncDirectory);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    public static boolean createNew(Path target, Path tmpDir, byte[] data, int offset, int length) throws IOException {
        return createNew(target, tmpDir, out -> out.write(data, offset, length));
    }

    /** Links a complete, fsynced temp file to {@code target} (no replace) and fsyncs the directory. */
    public static boolean publish(Path fsyncedTmp, Path target) throws IOException {
        return publish(fsyncedTmp, target, true);
    }

    private static boolean publish(Path fsyncedTmp, Path target, boolean syncDirectory) throws IOException {
        try {
            Files.createLink(target, fsyncedTmp);
        } catch (FileAlreadyExistsException e) {
            return false;
        }
        if (syncDirectory) {
            fsyncDirectory(target.getParent());
        }
        return true;
    }

    public static void fsyncDirectory(Path dir) throws IOException {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }
}
