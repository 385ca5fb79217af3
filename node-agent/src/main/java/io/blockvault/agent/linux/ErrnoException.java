package io.blockvault.agent.linux;

import java.io.IOException;

/** A failed system call, with its errno kept so callers can tell EALREADY from EBUSY. */
public final class ErrnoException extends IOException {

    public static final int ENOENT = 2;
    public static final int EINTR = 4;
    public static final int EIO = 5;
    public static final int ENODEV = 19;
    public static final int EBUSY = 16;
    public static final int EINVAL = 22;
    public static final int ENOSPC = 28;
    public static final int ESRCH = 3;
    public static final int ENODATA = 61;
    public static final int ENOTTY = 25;
    public static final int EALREADY = 114;

    private final int errno;

    public ErrnoException(String call, int errno) {
        super(call + " failed: " + describe(errno) + " (errno " + errno + ")");
        this.errno = errno;
    }

    public int errno() {
        return errno;
    }

    private static String describe(int errno) {
        return switch (errno) {
            case ENOENT -> "no such file, filter or event";
            case EINTR -> "interrupted";
            case EIO -> "input/output error";
            case ENODEV -> "no such device";
            case EBUSY -> "busy";
            case EINVAL -> "invalid argument";
            case ENOSPC -> "no space left";
            case ESRCH -> "no such snapshot";
            case ENODATA -> "buffer too small";
            case ENOTTY -> "not supported by this device";
            case EALREADY -> "already attached";
            default -> "error";
        };
    }
}
