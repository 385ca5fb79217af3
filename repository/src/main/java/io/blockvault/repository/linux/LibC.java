package io.blockvault.repository.linux;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.NativeLong;
import com.sun.jna.Pointer;
import com.sun.jna.Structure;
import com.sun.jna.ptr.IntByReference;

/** The few libc calls the guard needs (x86_64 Linux). */
public interface LibC extends Library {

    int O_RDONLY = 0;
    int O_NONBLOCK = 0x800;
    int O_CLOEXEC = 0x80000;
    int O_NOFOLLOW = 0x20000;
    int O_DIRECTORY = 0x10000;

    int open(String path, int flags, int mode) throws LastErrorException;

    int close(int fd) throws LastErrorException;

    int openat(int dirfd, String path, int flags, int mode) throws LastErrorException;

    int unlinkat(int dirfd, String path, int flags) throws LastErrorException;

    int chmod(String path, int mode) throws LastErrorException;

    int ioctl(int fd, NativeLong request, IntByReference arg) throws LastErrorException;

    int ioctl(int fd, NativeLong request, long arg) throws LastErrorException;

    int prctl(int option, long arg2, long arg3, long arg4, long arg5) throws LastErrorException;

    long syscall(long number, long arg1, long arg2, Pointer arg3) throws LastErrorException;

    int socket(int domain, int type, int protocol) throws LastErrorException;

    int geteuid();

    int clock_gettime(int clock, Timespec ts) throws LastErrorException;

    /** struct timespec on x86_64. */
    @Structure.FieldOrder({"tv_sec", "tv_nsec"})
    class Timespec extends Structure {
        public long tv_sec;
        public long tv_nsec;
    }
}
