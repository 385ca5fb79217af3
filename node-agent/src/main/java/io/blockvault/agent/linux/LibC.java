package io.blockvault.agent.linux;

import com.sun.jna.LastErrorException;
import com.sun.jna.Native;
import com.sun.jna.NativeLong;
import com.sun.jna.Pointer;

/**
 * The libc calls the agent makes: the repository module's definition ({@code open}, {@code close},
 * {@code ioctl} with an integer argument, ...) plus what only the agent needs (an ioctl whose
 * argument is a pointer to a structure). One definition per call; errno surfaces as
 * {@link LastErrorException}.
 */
public interface LibC extends io.blockvault.repository.linux.LibC {

    LibC INSTANCE = Native.load("c", LibC.class);

    int O_RDWR = 2;

    int ioctl(int fd, NativeLong request, Pointer argument) throws LastErrorException;
}
