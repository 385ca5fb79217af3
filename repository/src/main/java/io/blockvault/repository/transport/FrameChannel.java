package io.blockvault.repository.transport;

import io.blockvault.repository.client.RepositoryException;
import io.blockvault.repository.client.RepositoryException.Reason;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/** Reads and writes frames on a stream, refusing frames over a size limit before allocating them. */
public final class FrameChannel {

    /** One received frame. */
    public record Frame(int type, byte[] payload) {
        public DataInputStream data() {
            return new DataInputStream(new java.io.ByteArrayInputStream(payload));
        }
    }

    private final DataInputStream in;
    private final DataOutputStream out;
    private volatile int maxFrame;

    public FrameChannel(InputStream in, OutputStream out, int maxFrame) {
        this.in = new DataInputStream(new BufferedInputStream(in, 1 << 16));
        this.out = new DataOutputStream(new BufferedOutputStream(out, 1 << 16));
        this.maxFrame = maxFrame;
    }

    public void maxFrame(int max) {
        this.maxFrame = max;
    }

    /** The next frame, or null at a clean end of stream between frames. */
    public Frame read() throws IOException {
        int length;
        try {
            length = in.readInt();
        } catch (EOFException e) {
            return null;
        }
        if (length < 1 || length > maxFrame) {
            throw new RepositoryException(Reason.FRAME_TOO_LARGE, "frame of " + Integer.toUnsignedString(length)
                    + " bytes refused: the limit is " + maxFrame + " bytes");
        }
        int type = in.readUnsignedByte();
        byte[] payload = new byte[length - 1];
        in.readFully(payload);
        return new Frame(type, payload);
    }

    public void write(int type, byte[] payload, int offset, int length) throws IOException {
        out.writeInt(length + 1);
        out.writeByte(type);
        out.write(payload, offset, length);
    }

    public void write(int type, byte[] payload) throws IOException {
        write(type, payload, 0, payload.length);
    }

    /** Writes a frame whose payload is built by {@code body}. */
    public void write(int type, Body body) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        DataOutputStream d = new DataOutputStream(b);
        body.write(d);
        d.flush();
        write(type, b.toByteArray());
    }

    /** Writes a frame with a small header built by {@code head} followed by a large byte range. */
    public void write(int type, Body head, byte[] tail, int offset, int length) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        DataOutputStream d = new DataOutputStream(b);
        head.write(d);
        d.flush();
        byte[] h = b.toByteArray();
        out.writeInt(1 + h.length + length);
        out.writeByte(type);
        out.write(h);
        out.write(tail, offset, length);
    }

    public void flush() throws IOException {
        out.flush();
    }

    /** Builds a payload. */
    @FunctionalInterface
    public interface Body {
        void write(DataOutputStream out) throws IOException;
    }
}
