package io.blockvault.repository.linux;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * A directory the guard holds open by fd, so that everything it does inside (list, open, remove)
 * happens in that directory even if an untrusted writer swaps the path for a symlink meanwhile:
 * entries are opened with {@code openat(O_NOFOLLOW)}, removed with {@code unlinkat}, and read through
 * {@code /proc/self/fd}. The guard uses it for the transport's incoming area, where it runs as root.
 */
public final class SafeDirectory implements AutoCloseable {

    private final Linux linux;
    private final int fd;
    private final Path path;

    private SafeDirectory(Linux linux, int fd, Path path) {
        this.linux = linux;
        this.fd = fd;
        this.path = path;
    }

    public static SafeDirectory open(Linux linux, Path dir) throws IOException {
        return new SafeDirectory(linux, linux.openDirectory(dir), dir);
    }

    /** A subdirectory, refused when it is a symlink or not a directory. */
    public SafeDirectory sub(String name) throws IOException {
        requireName(name);
        return new SafeDirectory(linux, linux.openAt(fd, name, true), path.resolve(name));
    }

    public Path path() {
        return path;
    }

    /** The names in this directory. */
    public List<String> names() throws IOException {
        try (Stream<Path> s = Files.list(proc(fd))) {
            return s.map(p -> p.getFileName().toString()).toList();
        }
    }

    /** Opens a regular file of this directory for reading; refuses symlinks, directories and devices. */
    public OpenFile openFile(String name) throws IOException {
        requireName(name);
        int f = linux.openAt(fd, name, false);
        if (!Files.isRegularFile(proc(f))) {
            linux.close(f);
            throw new IOException(path.resolve(name) + " is not a regular file");
        }
        return new OpenFile(linux, f);
    }

    public void unlink(String name) throws IOException {
        requireName(name);
        linux.unlinkAt(fd, name);
    }

    private static void requireName(String name) {
        if (name.isEmpty() || name.contains("/") || name.equals(".") || name.equals("..")) {
            throw new IllegalArgumentException("'" + name + "' is not a plain file name");
        }
    }

    static Path proc(int fd) {
        return Path.of("/proc/self/fd/" + fd);
    }

    @Override
    public void close() {
        linux.close(fd);
    }

    /** A file opened by {@link #openFile}: its fd, and a path that reaches exactly that open file. */
    public static final class OpenFile implements AutoCloseable {
        private final Linux linux;
        private final int fd;

        OpenFile(Linux linux, int fd) {
            this.linux = linux;
            this.fd = fd;
        }

        public int fd() {
            return fd;
        }

        /** /proc/self/fd/N: opening it reopens the same inode, whatever happens to the name. */
        public Path procPath() {
            return proc(fd);
        }

        public byte[] readAll() throws IOException {
            return Files.readAllBytes(procPath());
        }

        @Override
        public void close() {
            linux.close(fd);
        }
    }
}
