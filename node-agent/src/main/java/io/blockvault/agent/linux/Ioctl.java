package io.blockvault.agent.linux;

import com.sun.jna.NativeLong;

/** The kernel's {@code _IOC} encoding of ioctl request numbers (asm-generic, as on x86_64 and arm64). */
public final class Ioctl {

    private static final int NONE = 0;
    private static final int WRITE = 1;
    private static final int READ = 2;

    private Ioctl() {
    }

    public static NativeLong io(char type, int nr) {
        return encode(NONE, type, nr, 0);
    }

    public static NativeLong ior(char type, int nr, int size) {
        return encode(READ, type, nr, size);
    }

    public static NativeLong iow(char type, int nr, int size) {
        return encode(WRITE, type, nr, size);
    }

    public static NativeLong iowr(char type, int nr, int size) {
        return encode(READ | WRITE, type, nr, size);
    }

    private static NativeLong encode(int dir, char type, int nr, int size) {
        if (size < 0 || size >= 1 << 14) {
            throw new IllegalArgumentException("ioctl argument size " + size + " does not fit in 14 bits");
        }
        long value = ((long) dir << 30) | ((long) size << 16) | ((long) type << 8) | nr;
        return new NativeLong(value);
    }
}
