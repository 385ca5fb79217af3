package io.blockvault.repository.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import java.util.Optional;

/** The {@code user.blockvault.locked-until} extended attribute the guard sets before it locks a file. */
public final class LockAttributes {

    private LockAttributes() {
    }

    public static Optional<Long> lockedUntil(Path file) throws IOException {
        UserDefinedFileAttributeView v = java.nio.file.Files.getFileAttributeView(file,
                UserDefinedFileAttributeView.class);
        if (v == null || !v.list().contains(RepositoryLayout.LOCKED_UNTIL_XATTR)) {
            return Optional.empty();
        }
        ByteBuffer b = ByteBuffer.allocate(v.size(RepositoryLayout.LOCKED_UNTIL_XATTR));
        v.read(RepositoryLayout.LOCKED_UNTIL_XATTR, b);
        try {
            return Optional.of(Long.parseLong(new String(b.array(), 0, b.position(), StandardCharsets.US_ASCII).trim()));
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    public static void setLockedUntil(Path file, long epochMillis) throws IOException {
        UserDefinedFileAttributeView v = java.nio.file.Files.getFileAttributeView(file,
                UserDefinedFileAttributeView.class);
        v.write(RepositoryLayout.LOCKED_UNTIL_XATTR,
                ByteBuffer.wrap(Long.toString(epochMillis).getBytes(StandardCharsets.US_ASCII)));
    }
}
