package io.blockvault.repository.transport;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

/** Encodes protocol frames and payload fields for the fuzzer, including ones the server must refuse. */
final class FuzzWire {

    private FuzzWire() {
    }

    /** A frame as the protocol defines it: u32 length of what follows, u8 type, payload. */
    static byte[] frame(int type, byte[] payload) {
        return frameWithLength(payload.length + 1, type, payload);
    }

    /** A frame whose length field says {@code length}, whatever the payload really is. */
    static byte[] frameWithLength(int length, int type, byte[] payload) {
        Payload p = new Payload();
        p.i32(length);
        p.u8(type);
        p.bytes(payload);
        return p.toBytes();
    }

    /** A payload under construction. Writes to memory only, so the checked exceptions cannot happen. */
    static final class Payload {
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        private final DataOutputStream out = new DataOutputStream(bytes);

        Payload utf(String s) {
            try {
                out.writeUTF(s);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return this;
        }

        /** A string field: u16 length, then exactly these bytes (which need not be modified UTF-8). */
        Payload rawUtf(byte[] encoded) {
            return u16(encoded.length).bytes(encoded);
        }

        Payload u8(int v) {
            return call(() -> out.writeByte(v));
        }

        Payload u16(int v) {
            return call(() -> out.writeShort(v));
        }

        Payload i32(int v) {
            return call(() -> out.writeInt(v));
        }

        Payload i64(long v) {
            return call(() -> out.writeLong(v));
        }

        Payload bytes(byte[] b) {
            return call(() -> out.write(b));
        }

        byte[] toBytes() {
            return bytes.toByteArray();
        }

        private Payload call(Write w) {
            try {
                w.run();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return this;
        }

        @FunctionalInterface
        private interface Write {
            void run() throws IOException;
        }
    }
}
