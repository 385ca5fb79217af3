package io.blockvault.repository.transport;

import io.blockvault.repository.client.RepositoryException;
import io.blockvault.repository.client.RepositoryException.Reason;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Tokens from a root-owned file, for a repository outside Kubernetes. One token per line:
 * <pre>
 * # token                 identity          optional expiry
 * 3f9a...                 node:worker-1
 * 77c1...                 operator
 * a0b2...                 node:worker-2     expires=2026-12-31T00:00:00Z
 * </pre>
 * The file must belong to root and must not be writable by group or others (the transport only
 * reads it). It is re-read when its modification time changes. Tokens are kept as SHA-256 digests.
 */
public final class FileTokenAuthenticator implements Authenticator {

    private record Entry(Identity identity, Optional<Instant> expires) {
    }

    private final Path file;
    private final Clock clock;
    private final boolean requireRootOwner;
    private Map<String, Entry> entries = Map.of();
    private long loadedMtime = Long.MIN_VALUE;

    public FileTokenAuthenticator(Path file, Clock clock, boolean requireRootOwner) throws IOException {
        this.file = file;
        this.clock = clock;
        this.requireRootOwner = requireRootOwner;
        reloadIfChanged();
    }

    private synchronized void reloadIfChanged() throws IOException {
        long mtime = Files.getLastModifiedTime(file).toMillis();
        if (mtime == loadedMtime) {
            return;
        }
        if (requireRootOwner) {
            int uid = (Integer) Files.getAttribute(file, "unix:uid");
            Set<PosixFilePermission> perms = Files.getPosixFilePermissions(file);
            if (uid != 0 || perms.contains(PosixFilePermission.GROUP_WRITE)
                    || perms.contains(PosixFilePermission.OTHERS_WRITE)) {
                throw new IOException("token file " + file + " must belong to root and not be writable by group or "
                        + "others (it is uid " + uid + ", " + java.nio.file.attribute.PosixFilePermissions.toString(perms)
                        + "); run: chown root " + file + " && chmod 0644 " + file);
            }
        }
        Map<String, Entry> parsed = new HashMap<>();
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String[] f = line.split("\\s+");
            if (f.length < 2 || f.length > 3 || f[0].length() < 16) {
                throw new IOException(file + " line " + (i + 1) + ": expected '<token of 16+ characters> "
                        + "node:<name>|operator [expires=<ISO instant>]'");
            }
            Identity id;
            if (f[1].equals("operator")) {
                id = Identity.operator("operator");
            } else if (f[1].startsWith("node:")) {
                try {
                    id = Identity.node(f[1].substring(5));
                } catch (IllegalArgumentException e) {
                    throw new IOException(file + " line " + (i + 1) + ": " + e.getMessage(), e);
                }
            } else {
                throw new IOException(file + " line " + (i + 1) + ": identity must be 'operator' or 'node:<name>'");
            }
            Optional<Instant> expires = Optional.empty();
            if (f.length == 3) {
                if (!f[2].startsWith("expires=")) {
                    throw new IOException(file + " line " + (i + 1) + ": third field must be expires=<ISO instant>");
                }
                try {
                    expires = Optional.of(Instant.parse(f[2].substring(8)));
                } catch (DateTimeParseException e) {
                    throw new IOException(file + " line " + (i + 1) + ": bad expiry " + f[2], e);
                }
            }
            parsed.put(digest(f[0]), new Entry(id, expires));
        }
        entries = parsed;
        loadedMtime = mtime;
    }

    private static String digest(String token) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(token.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public Identity authenticate(String token) throws RepositoryException {
        Map<String, Entry> current;
        try {
            reloadIfChanged();
        } catch (IOException e) {
            throw new RepositoryException(Reason.INTERNAL, "the token file cannot be read: " + e.getMessage(), e);
        }
        synchronized (this) {
            current = entries;
        }
        Entry e = current.get(digest(token));
        if (e == null) {
            throw new RepositoryException(Reason.UNAUTHENTICATED, "the token is not known to this repository; "
                    + "check the token the client was given");
        }
        if (e.expires().isPresent() && !clock.instant().isBefore(e.expires().get())) {
            throw new RepositoryException(Reason.UNAUTHENTICATED, "the token expired at " + e.expires().get()
                    + "; issue a new one");
        }
        return e.identity();
    }
}
