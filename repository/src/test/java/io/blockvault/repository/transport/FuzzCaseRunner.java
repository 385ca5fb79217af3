package io.blockvault.repository.transport;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;

/**
 * Runs one case on one connection: connects (TLS when the case says so), writes the case's bytes
 * while a reader collects what the server sends, then ends the connection as the case says and
 * waits, up to a bound, for the server to close it. Writes that fail because the server closed
 * early are normal: it may refuse at the first bad byte.
 */
final class FuzzCaseRunner implements AutoCloseable {

    /** A frame the server sent. */
    record Reply(int type, byte[] payload) {
    }

    /**
     * What happened: the frames (TLS cases), bytes received, whether the server ended the connection
     * within the bound (and after how long), a malformed reply if any, and a client-side problem that
     * is the server's fault (a TLS handshake a valid client could not complete).
     */
    record Outcome(List<Reply> replies, long bytesReceived, boolean ended, long endMillis, String malformed,
            String handshakeFailure) {
    }

    private static final int MAX_REPLY_FRAME = 64 << 20;

    private final int port;
    private final SSLContext tls;
    private final long closeBoundMillis;
    private final long stallBoundMillis;
    private final ExecutorService readers = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "fuzz-reader");
        t.setDaemon(true);
        return t;
    });

    /**
     * @param closeBoundMillis how long the server may take to close after the client half-closed
     * @param stallBoundMillis how long it may take when the client just stops sending (its deadlines)
     */
    FuzzCaseRunner(int port, SSLContext tls, long closeBoundMillis, long stallBoundMillis) {
        this.port = port;
        this.tls = tls;
        this.closeBoundMillis = closeBoundMillis;
        this.stallBoundMillis = stallBoundMillis;
    }

    Outcome run(FuzzCase c) throws IOException, InterruptedException {
        Socket plain = new Socket();
        plain.connect(new InetSocketAddress("127.0.0.1", port), 10_000);
        plain.setTcpNoDelay(true);
        plain.setSoTimeout((int) Math.max(closeBoundMillis, stallBoundMillis) + 5_000);
        Socket s = plain;
        try {
            if (c.transport() == FuzzCase.Transport.TLS) {
                SSLSocket t = (SSLSocket) tls.getSocketFactory().createSocket(plain, "127.0.0.1", port, true);
                t.setEnabledProtocols(Tls.PROTOCOLS);
                try {
                    t.startHandshake();
                } catch (IOException e) {
                    return new Outcome(List.of(), 0, true, 0, null, "TLS handshake failed: " + e);
                }
                s = t;
            }
            Collector collector = new Collector(s.getInputStream(), c.transport() == FuzzCase.Transport.TLS);
            Future<?> reading = readers.submit(collector);
            OutputStream out = s.getOutputStream();
            try {
                for (byte[] w : c.writes()) {
                    out.write(w);
                    out.flush();
                }
            } catch (IOException e) {
                // the server closed while we were still sending: it refused early
            }
            long t0 = System.nanoTime();
            long bound;
            switch (c.ending()) {
                case HALF_CLOSE -> {
                    try {
                        s.shutdownOutput();
                    } catch (IOException e) {
                        // already closed by the server
                    }
                    bound = closeBoundMillis;
                }
                case STALL -> bound = stallBoundMillis;
                default -> {
                    plain.setSoLinger(true, 0);
                    s.close();
                    reading.cancel(true);
                    return new Outcome(collector.replies(), collector.bytes, true, 0, collector.malformed, null);
                }
            }
            boolean ended;
            try {
                reading.get(bound, TimeUnit.MILLISECONDS);
                ended = !collector.timedOut;
            } catch (TimeoutException e) {
                ended = false;
            } catch (ExecutionException e) {
                ended = true;
            }
            long millis = (System.nanoTime() - t0) / 1_000_000;
            return new Outcome(collector.replies(), collector.bytes, ended, millis, collector.malformed, null);
        } finally {
            try {
                s.close();
            } catch (IOException ignored) {
                // closing anyway
            }
            plain.close();
        }
    }

    /** Reads until the server ends the connection: frames on TLS, bytes on raw TCP. */
    private static final class Collector implements Runnable {
        private final InputStream in;
        private final boolean frames;
        private final List<Reply> replies = new ArrayList<>();
        volatile long bytes;
        volatile String malformed;
        volatile boolean timedOut;

        Collector(InputStream in, boolean frames) {
            this.in = in;
            this.frames = frames;
        }

        synchronized List<Reply> replies() {
            return List.copyOf(replies);
        }

        @Override
        public void run() {
            try {
                if (!frames) {
                    byte[] buf = new byte[8192];
                    int n;
                    while ((n = in.read(buf)) >= 0) {
                        bytes += n;
                    }
                    return;
                }
                DataInputStream d = new DataInputStream(in);
                while (true) {
                    int length;
                    try {
                        length = d.readInt();
                    } catch (EOFException e) {
                        return;
                    }
                    if (length < 1 || length > MAX_REPLY_FRAME) {
                        malformed = "reply frame of length " + Integer.toUnsignedString(length);
                        return;
                    }
                    int type = d.readUnsignedByte();
                    byte[] payload = new byte[length - 1];
                    d.readFully(payload);
                    bytes += 4L + length;
                    synchronized (this) {
                        replies.add(new Reply(type, payload));
                    }
                }
            } catch (SocketTimeoutException e) {
                timedOut = true; // longer than any bound: the server neither answered nor closed
            } catch (IOException e) {
                // reset, TLS alert or a frame cut by the close: the server ended the connection
            }
        }
    }

    @Override
    public void close() {
        readers.shutdownNow();
    }
}
