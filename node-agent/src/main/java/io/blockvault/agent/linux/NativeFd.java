package io.blockvault.agent.linux;

import com.sun.jna.LastErrorException;
import com.sun.jna.NativeLong;
import com.sun.jna.Pointer;
import java.io.IOException;

/** An open file descriptor for ioctls; errno becomes an {@link IOException} that names the call. */
public final class NativeFd implements AutoCloseable {

    private final String path;
    private final int fd;

    private NativeFd(String path, int fd) {
        this.path = path;
        this.fd = fd;
    }

    public static NativeFd open(String path, int flags) throws IOException {
        try {
            return new NativeFd(path, LibC.INSTANCE.open(path, flags | LibC.O_CLOEXEC, 0));
        } catch (LastErrorException e) {
            throw new ErrnoException("open " + path, e.getErrorCode());
        }
    }

    public String path() {
        return path;
    }

    /** Issues an ioctl whose argument is a pointer to {@code argument}. */
    public int ioctl(String name, NativeLong request, Pointer argument) throws ErrnoException {
        try {
            return LibC.INSTANCE.ioctl(fd, request, argument);
        } catch (LastErrorException e) {
            throw new ErrnoException(name + " on " + path, e.getErrorCode());
        }
    }

    @Override
    public void close() throws IOException {
        try {
            LibC.INSTANCE.close(fd);
        } catch (LastErrorException e) {
            throw new ErrnoException("close " + path, e.getErrorCode());
        }
    }
}
