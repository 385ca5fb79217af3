package io.blockvault.agent.keys;

import io.blockvault.repository.format.ChunkKeys;
import io.blockvault.repository.format.EncryptionKey;
import java.io.IOException;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Base64;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;

/**
 * The repository keys of a node, from a properties file (mode 0600 or 0400, like an SSH key):
 * <pre>
 * # blockvault key file
 * id-key=BASE64 (at least 32 random bytes; the same on every node that should deduplicate)
 * encryption-key=BASE64 (exactly 32 random bytes, AES-256; optional: without it chunks are not encrypted)
 * encryption-key-id=1    (a positive number recorded in every chunk; required with encryption-key)
 * </pre>
 * Make one with {@code printf 'id-key=%s\nencryption-key=%s\nencryption-key-id=1\n' "$(head -c32 /dev/urandom | base64)"
 * "$(head -c32 /dev/urandom | base64)" > keys; chmod 600 keys}. Losing it loses every backup made with it.
 */
public final class KeyFile {

    private KeyFile() {
    }

    public static ChunkKeys read(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IOException("key file " + file + " does not exist; create it as described in "
                    + "node-agent/README.md (id-key, encryption-key, encryption-key-id)");
        }
        checkPrivate(file);
        return parse(Files.readString(file), file.toString());
    }

    /** Refuses a key file others can read or its group can write (followed through symlinks). */
    static void checkPrivate(Path file) throws IOException {
        Set<PosixFilePermission> perms = Files.getPosixFilePermissions(file);
        if (perms.contains(PosixFilePermission.OTHERS_READ) || perms.contains(PosixFilePermission.GROUP_WRITE)
                || perms.contains(PosixFilePermission.OTHERS_WRITE)) {
            throw new IOException("key file " + file + " is readable by others or writable by its group; "
                    + "run chmod 600 " + file);
        }
    }

    public static ChunkKeys parse(String text, String what) throws IOException {
        Properties p = new Properties();
        p.load(new StringReader(text));
        String id = p.getProperty("id-key");
        if (id == null) {
            throw new IOException("key file " + what + " has no id-key line; add id-key=BASE64 of at least 32 random"
                    + " bytes");
        }
        byte[] idKey = decode(id, "id-key", what);
        if (idKey.length < 32) {
            throw new IOException("id-key in " + what + " has " + idKey.length + " bytes; it needs at least 32");
        }
        String enc = p.getProperty("encryption-key");
        if (enc == null) {
            return new ChunkKeys(idKey, Optional.empty());
        }
        byte[] key = decode(enc, "encryption-key", what);
        if (key.length != 32) {
            throw new IOException("encryption-key in " + what + " has " + key.length + " bytes; AES-256 needs 32");
        }
        String keyId = p.getProperty("encryption-key-id");
        int kid;
        try {
            kid = Integer.parseInt(keyId == null ? "" : keyId.trim());
        } catch (NumberFormatException e) {
            throw new IOException("key file " + what + " needs encryption-key-id=N (a positive number) next to "
                    + "encryption-key");
        }
        if (kid <= 0) {
            throw new IOException("encryption-key-id in " + what + " must be positive, got " + kid);
        }
        return new ChunkKeys(idKey, Optional.of(new EncryptionKey(kid, key)));
    }

    private static byte[] decode(String value, String name, String what) throws IOException {
        try {
            return Base64.getDecoder().decode(value.trim());
        } catch (IllegalArgumentException e) {
            throw new IOException(name + " in " + what + " is not valid base64: " + e.getMessage());
        }
    }
}
