package io.blockvault.repository.it;

import io.blockvault.repository.transport.TestTls;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** Starts the transport and the guard as real processes with the privileges they have in production. */
public final class Processes {

    /** A running transport and the port it listens on; its output is collected in {@code log}. */
    public record Transport(Process process, int port, StringBuffer log) {
        public void kill() throws InterruptedException {
            process.destroyForcibly();
            process.waitFor(30, TimeUnit.SECONDS);
        }
    }

    private Processes() {
    }

    /** Owns the incoming area by the transport user, as an installation would. */
    public static void prepareRepository(Path root) throws IOException, InterruptedException {
        Files.createDirectories(root.resolve("incoming"));
        Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwxr-xr-x"));
        Host.ok("chown", "-R", Host.TRANSPORT_USER + ":" + Host.TRANSPORT_USER, root.resolve("incoming").toString());
        Files.setPosixFilePermissions(root.resolve("incoming"), PosixFilePermissions.fromString("rwx------"));
    }

    /** TLS material the transport user can read (its key it owns). */
    public static TestTls tls(Path dir) throws IOException, InterruptedException {
        TestTls t = TestTls.create(dir);
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setPosixFilePermissions(t.serverCert(), PosixFilePermissions.fromString("rw-r--r--"));
        Files.setPosixFilePermissions(t.caCert(), PosixFilePermissions.fromString("rw-r--r--"));
        Host.ok("chown", Host.TRANSPORT_USER, t.serverKey().toString());
        Files.setPosixFilePermissions(t.serverKey(), PosixFilePermissions.fromString("rw-------"));
        return t;
    }

    public static Transport startTransport(Path jar, Path root, TestTls tls, Path tokens, String... extra)
            throws IOException, InterruptedException {
        List<String> args = new ArrayList<>(List.of(Host.java(), "-Xmx512m", "-jar", jar.toString(), "serve",
                "--root", root.toString(), "--listen", "127.0.0.1", "--port", "0", "--tls-cert",
                tls.serverCert().toString(), "--tls-key", tls.serverKey().toString(), "--token-file", tokens.toString()));
        // no reserve unless the test asks for one: small loop filesystems are below the default 1 GiB
        if (!List.of(extra).contains("--min-free-bytes")) {
            args.addAll(List.of("--min-free-bytes", "0"));
        }
        args.addAll(List.of(extra));
        Process p = new ProcessBuilder(Host.asTransportUser(args.toArray(String[]::new))).redirectErrorStream(true)
                .start();
        StringBuffer log = new StringBuffer();
        CompletableFuture<Integer> port = new CompletableFuture<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    log.append(line).append('\n');
                    if (line.startsWith("listening ")) {
                        port.complete(Integer.parseInt(line.substring(10).trim()));
                    }
                }
            } catch (IOException e) {
                // process gone
            }
            port.completeExceptionally(new IOException("transport exited before listening: " + log));
        }, "transport-output");
        reader.setDaemon(true);
        reader.start();
        try {
            return new Transport(p, port.get(60, TimeUnit.SECONDS), log);
        } catch (Exception e) {
            p.destroyForcibly();
            throw new IOException("transport did not start: " + log, e);
        }
    }

    public static Process startGuard(Path jar, Path config, Path logFile) throws IOException {
        return new ProcessBuilder(Host.asGuard(jar, "--config", config.toString())).redirectErrorStream(true)
                .redirectOutput(logFile.toFile()).start();
    }

    public static void writeGuardConfig(Path config, Path root, int lockDays, long advanceSeconds, long gcGraceSeconds)
            throws IOException {
        Files.writeString(config, "repository=" + root + "\nlockDays=" + lockDays + "\ntrustedClockAdvanceSeconds="
                + advanceSeconds + "\nintervalMillis=300\ngcIntervalSeconds=0\ngcGraceSeconds=" + gcGraceSeconds + "\n");
        Files.setPosixFilePermissions(config, PosixFilePermissions.fromString("rw-------"));
    }
}
