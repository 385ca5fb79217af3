package io.blockvault.repository.transport;

import java.util.List;
import java.util.Optional;

/**
 * One generated case: what the fuzzer sends on one connection and how it ends that connection.
 * {@code identity} is who a valid HELLO in it authenticates as (empty: nobody, the server must only
 * refuse). {@code writes} are sent one write each, in order.
 */
record FuzzCase(int number, Transport transport, Optional<String> identity, List<byte[]> writes, Ending ending,
        String description) {

    /** Plain TCP straight at the port, or TLS 1.3 first. */
    enum Transport { RAW_TCP, TLS }

    /**
     * After the writes: half-close (the server must then finish and close within the bound), send
     * nothing more (the server's handshake or idle deadline must close it), or abort at once.
     */
    enum Ending { HALF_CLOSE, STALL, ABORT }

    FuzzCase {
        writes = List.copyOf(writes);
    }

    long bytes() {
        return writes.stream().mapToLong(w -> w.length).sum();
    }
}
