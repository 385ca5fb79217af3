package io.blockvault.repository.linux;

import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.NativeLong;
import com.sun.jna.ptr.IntByReference;
import java.io.IOException;
import java.nio.file.Path;

/**
 * Linux mechanics through JNA: inode flags (FS_IOC_GETFLAGS/SETFLAGS), reflink (FICLONE),
 * CLOCK_BOOTTIME, and the seccomp filter that takes the network away from the guard.
 */
public final class Linux {

    public static final long FS_IOC_GETFLAGS = 0x80086601L;
    public static final long FS_IOC_SETFLAGS = 0x40086602L;
    public static final long FICLONE = 0x40049409L;
    public static final int FS_IMMUTABLE_FL = 0x10;
    public static final int FS_APPEND_FL = 0x20;
    public static final int EPERM = 1;
    public static final int EXDEV = 18;
    public static final int EINVAL = 22;
    public static final int ENOTTY = 25;
    public static final int EOPNOTSUPP = 95;

    private static final int CLOCK_BOOTTIME = 7;
    private static final int PR_SET_NO_NEW_PRIVS = 38;
    private static final long SYS_SECCOMP = 317;
    private static final int SECCOMP_SET_MODE_FILTER = 1;
    private static final int SECCOMP_FILTER_FLAG_TSYNC = 1;
    private static final int AUDIT_ARCH_X86_64 = 0xC000003E;
    private static final int NR_SOCKET = 41;
    private static final int X32_SYSCALL_BIT = 0x40000000;

    private final LibC libc;

    public Linux() {
        if (!"amd64".equals(System.getProperty("os.arch")) || !System.getProperty("os.name").startsWith("Linux")) {
            throw new IllegalStateException("the repository's Linux binding supports x86_64 Linux only (this is "
                    + System.getProperty("os.name") + " " + System.getProperty("os.arch") + ")");
        }
        this.libc = Native.load("c", LibC.class);
    }

    private int openRead(Path file) throws IOException {
        try {
            return libc.open(file.toString(), LibC.O_RDONLY | LibC.O_NONBLOCK | LibC.O_CLOEXEC | LibC.O_NOFOLLOW, 0);
        } catch (LastErrorException e) {
            throw new IOException("cannot open " + file + ": errno " + e.getErrorCode(), e);
        }
    }

    public int flags(Path file) throws IOException {
        int fd = openRead(file);
        try {
            IntByReference f = new IntByReference();
            libc.ioctl(fd, new NativeLong(FS_IOC_GETFLAGS), f);
            return f.getValue();
        } catch (LastErrorException e) {
            throw new IOException("FS_IOC_GETFLAGS on " + file + " failed: errno " + e.getErrorCode(), e);
        } finally {
            libc.close(fd);
        }
    }

    public boolean isImmutable(Path file) throws IOException {
        return (flags(file) & FS_IMMUTABLE_FL) != 0;
    }

    /** Sets or clears FS_IMMUTABLE_FL; needs CAP_LINUX_IMMUTABLE. */
    public void setImmutable(Path file, boolean immutable) throws IOException {
        int fd = openRead(file);
        try {
            IntByReference f = new IntByReference();
            libc.ioctl(fd, new NativeLong(FS_IOC_GETFLAGS), f);
            int next = immutable ? f.getValue() | FS_IMMUTABLE_FL : f.getValue() & ~FS_IMMUTABLE_FL;
            if (next != f.getValue()) {
                libc.ioctl(fd, new NativeLong(FS_IOC_SETFLAGS), new IntByReference(next));
            }
        } catch (LastErrorException e) {
            throw new IOException((immutable ? "locking " : "unlocking ") + file + " failed: errno " + e.getErrorCode()
                    + (e.getErrorCode() == EPERM ? " (the guard lacks CAP_LINUX_IMMUTABLE)" : ""), e);
        } finally {
            libc.close(fd);
        }
    }

    /**
     * Shares the extents of the open file {@code sourceFd} with the (empty, open for writing) target:
     * FICLONE. Returns false when the filesystem cannot (EOPNOTSUPP, EXDEV, EINVAL, ENOTTY), so the
     * caller copies instead.
     */
    public boolean reflink(int targetFd, int sourceFd) throws IOException {
        try {
            libc.ioctl(targetFd, new NativeLong(FICLONE), (long) sourceFd);
            return true;
        } catch (LastErrorException e) {
            int err = e.getErrorCode();
            if (err == EOPNOTSUPP || err == EXDEV || err == EINVAL || err == ENOTTY) {
                return false;
            }
            throw new IOException("FICLONE failed: errno " + err, e);
        }
    }

    /** Opens a directory without following a symlink in its last component; returns the fd. */
    public int openDirectory(Path dir) throws IOException {
        try {
            return libc.open(dir.toString(), LibC.O_RDONLY | LibC.O_DIRECTORY | LibC.O_NOFOLLOW | LibC.O_CLOEXEC, 0);
        } catch (LastErrorException e) {
            throw new IOException("cannot open directory " + dir + " (a symlink or missing?): errno "
                    + e.getErrorCode(), e);
        }
    }

    /** openat(2) relative to a directory fd, never following a symlink; directories when asked. */
    public int openAt(int dirFd, String name, boolean directory) throws IOException {
        int flags = LibC.O_RDONLY | LibC.O_NOFOLLOW | LibC.O_CLOEXEC | LibC.O_NONBLOCK
                | (directory ? LibC.O_DIRECTORY : 0);
        try {
            return libc.openat(dirFd, name, flags, 0);
        } catch (LastErrorException e) {
            throw new IOException("cannot open " + name + " (a symlink, or not a " + (directory ? "directory" : "file")
                    + "?): errno " + e.getErrorCode(), e);
        }
    }

    /** unlinkat(2) relative to a directory fd; a missing entry is not an error. */
    public void unlinkAt(int dirFd, String name) throws IOException {
        try {
            libc.unlinkat(dirFd, name, 0);
        } catch (LastErrorException e) {
            if (e.getErrorCode() != 2) {
                throw new IOException("cannot remove " + name + ": errno " + e.getErrorCode(), e);
            }
        }
    }

    /** chmod(2) with the full mode, sticky and setgid bits included (Java's permissions have only rwx). */
    public void chmod(Path file, int mode) throws IOException {
        try {
            libc.chmod(file.toString(), mode);
        } catch (LastErrorException e) {
            throw new IOException("cannot chmod " + file + " to " + Integer.toOctalString(mode) + ": errno "
                    + e.getErrorCode(), e);
        }
    }

    /** Opens a file for writing and returns its fd (for {@link #reflink}). */
    public int openWrite(Path file) throws IOException {
        try {
            return libc.open(file.toString(), 0x1 /* O_WRONLY */ | LibC.O_CLOEXEC, 0);
        } catch (LastErrorException e) {
            throw new IOException("cannot open " + file + " for writing: errno " + e.getErrorCode(), e);
        }
    }

    public void close(int fd) {
        libc.close(fd);
    }

    /** CLOCK_BOOTTIME in nanoseconds: monotonic, and counts suspend. */
    public long boottimeNanos() {
        LibC.Timespec ts = new LibC.Timespec();
        libc.clock_gettime(CLOCK_BOOTTIME, ts);
        return ts.tv_sec * 1_000_000_000L + ts.tv_nsec;
    }

    public int effectiveUid() {
        return libc.geteuid();
    }

    /**
     * Installs a seccomp filter on every thread of this process (TSYNC) that makes socket(2) fail
     * with EPERM, and refuses every syscall of a foreign ABI (i386, x32) the same way. Sets
     * no_new_privs first, as the kernel requires without CAP_SYS_ADMIN.
     */
    public void denySockets() throws IOException {
        int[][] prog = {
            // {code, jt, jf, k}
            {0x20, 0, 0, 4},                          // ld [arch]
            {0x15, 0, 4, AUDIT_ARCH_X86_64},          // jeq x86_64 ? next : deny
            {0x20, 0, 0, 0},                          // ld [nr]
            {0x35, 2, 0, X32_SYSCALL_BIT},            // jge x32 bit ? deny : next
            {0x15, 1, 0, NR_SOCKET},                  // jeq socket ? deny : next
            {0x06, 0, 0, 0x7fff0000},                 // ret ALLOW
            {0x06, 0, 0, 0x00050000 | EPERM},         // ret ERRNO(EPERM)
        };
        Memory filter = new Memory(8L * prog.length);
        for (int i = 0; i < prog.length; i++) {
            filter.setShort(8L * i, (short) prog[i][0]);
            filter.setByte(8L * i + 2, (byte) prog[i][1]);
            filter.setByte(8L * i + 3, (byte) prog[i][2]);
            filter.setInt(8L * i + 4, prog[i][3]);
        }
        Memory fprog = new Memory(16);
        fprog.clear();
        fprog.setShort(0, (short) prog.length);
        fprog.setPointer(8, filter);
        try {
            libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
            long r = libc.syscall(SYS_SECCOMP, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, fprog);
            if (r != 0) {
                throw new IOException("seccomp TSYNC failed: thread " + r + " could not take the filter");
            }
        } catch (LastErrorException e) {
            throw new IOException("installing the seccomp filter failed: errno " + e.getErrorCode(), e);
        }
    }

    /** Tries socket(AF_INET, SOCK_STREAM, 0) through libc; returns the errno, or 0 if it succeeded. */
    public int probeSocket() {
        try {
            int fd = libc.socket(2, 1, 0);
            libc.close(fd);
            return 0;
        } catch (LastErrorException e) {
            return e.getErrorCode();
        }
    }
}
