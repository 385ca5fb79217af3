package io.blockvault.agent.testing;

import io.blockvault.repository.client.ConnectionPool;
import io.blockvault.repository.client.TransportClient;
import io.blockvault.repository.format.ChunkCodec;
import io.blockvault.repository.format.ChunkKeys;
import io.blockvault.repository.format.EncryptionKey;
import io.blockvault.repository.store.RepositoryLayout;
import io.blockvault.repository.store.RepositoryStore;
import io.blockvault.repository.store.StoreLimits;
import io.blockvault.repository.transport.FileTokenAuthenticator;
import io.blockvault.repository.transport.Tls;
import io.blockvault.repository.transport.TransportConfig;
import io.blockvault.repository.transport.TestTls;
import io.blockvault.repository.transport.TransportServer;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Base64;
import java.util.Optional;
import java.util.Random;

/** A real repository transport on 127.0.0.1 with test TLS and file tokens, as the agent meets it. */
public final class TestRepository implements AutoCloseable {

    public static final String NODE = "node-a";
    public static final String TOKEN = "aaaaaaaaaaaaaaaa-node-a-token";

    private final Path dir;
    private final TestTls tls;
    private final RepositoryStore store;
    private final TransportServer server;

    private TestRepository(Path dir, TestTls tls, RepositoryStore store, TransportServer server) {
        this.dir = dir;
        this.tls = tls;
        this.store = store;
        this.server = server;
    }

    public static TestRepository start(Path dir) throws Exception {
        TestTls tls = TestTls.create(dir.resolve("tls"));
        Path tokens = dir.resolve("tokens");
        Files.writeString(tokens, TOKEN + " node:" + NODE + "\n");
        RepositoryStore store = new RepositoryStore(new RepositoryLayout(dir.resolve("repo")),
                new StoreLimits(Long.MAX_VALUE, 1000, 0, 3600_000));
        store.open();
        TransportServer server = new TransportServer(TransportConfig.defaults(InetAddress.getLoopbackAddress(), 0),
                Tls.server(tls.serverCert(), tls.serverKey()), new FileTokenAuthenticator(tokens, Clock.systemUTC(),
                false), store, System.getLogger("test-transport"));
        server.start();
        Files.writeString(dir.resolve("token"), TOKEN + "\n");
        return new TestRepository(dir, tls, store, server);
    }

    public ConnectionPool pool(int connections) throws IOException {
        return ConnectionPool.of(new TransportClient.Endpoint("127.0.0.1", server.port(), Tls.client(tls.caCert()),
                TOKEN), connections);
    }

    public String address() {
        return "127.0.0.1:" + server.port();
    }

    public Path caFile() {
        return tls.caCert();
    }

    public Path tokenFile() {
        return dir.resolve("token");
    }

    public RepositoryStore store() {
        return store;
    }

    /** Seeded keys (with encryption), and a key file holding them. */
    public static ChunkKeys keys() {
        byte[] id = new byte[32];
        new Random(7).nextBytes(id);
        return new ChunkKeys(id, Optional.of(new EncryptionKey(1, encryptionKey(1))));
    }

    public static ChunkCodec codec() {
        return new ChunkCodec(keys());
    }

    public static Path writeKeyFile(Path file) throws IOException {
        ChunkKeys k = keys();
        Files.writeString(file, "# test keys\nid-key=" + Base64.getEncoder().encodeToString(k.idKey())
                + "\nencryption-key=" + Base64.getEncoder().encodeToString(k.encryption().orElseThrow().key())
                + "\nencryption-key-id=1\n");
        Files.setPosixFilePermissions(file, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        return file;
    }

    /**
     * A key directory as kubelet mounts the operator's encryption-key Secret: the files are symlinks
     * into a timestamped {@code ..data} directory; the id key is that of {@link #keys()}, key-N are
     * seeded by N, mode 0400.
     */
    public static Path writeKeyDir(Path dir, String current, int... keyIds) throws IOException {
        Path data = dir.resolve("..2026_11_22_07_00_00.000000001");
        Files.createDirectories(data);
        java.util.Map<String, byte[]> files = new java.util.LinkedHashMap<>();
        files.put("id-key", keys().idKey());
        for (int id : keyIds) {
            files.put("key-" + id, encryptionKey(id));
        }
        files.put("current", current.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        for (var e : files.entrySet()) {
            Path f = data.resolve(e.getKey());
            Files.write(f, e.getValue());
            Files.setPosixFilePermissions(f, java.nio.file.attribute.PosixFilePermissions.fromString("r--------"));
            Path link = dir.resolve(e.getKey());
            Files.deleteIfExists(link);
            Files.createSymbolicLink(link, Path.of("..data").resolve(e.getKey()));
        }
        Path dataLink = dir.resolve("..data");
        Files.deleteIfExists(dataLink);
        Files.createSymbolicLink(dataLink, data.getFileName());
        return dir;
    }

    /** Key id 1 is the key of {@link #keys()}, so a key directory with key-1 reads what they wrote. */
    public static byte[] encryptionKey(int id) {
        byte[] enc = new byte[32];
        new Random(id == 1 ? 8 : 100 + id).nextBytes(enc);
        return enc;
    }

    @Override
    public void close() throws IOException {
        server.close();
    }
}
