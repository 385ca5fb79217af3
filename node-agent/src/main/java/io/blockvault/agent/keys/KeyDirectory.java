package io.blockvault.agent.keys;

import io.blockvault.repository.format.ChunkKeys;
import io.blockvault.repository.format.EncryptionKey;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The repository keys as the cluster provides them: the operator's Secret
 * {@code <repo>-repository-encryption-key} mounted as a directory of raw files:
 * <pre>
 * id-key    32 random bytes (chunk ids are HMACs under it; never rotated)
 * key-N     32 random bytes each, AES-256; N is the key id recorded in every chunk
 * current   the name of the key new chunks are encrypted with, e.g. "key-2"
 * </pre>
 * Chunks written under any {@code key-N} of the directory are decrypted; new ones use {@code current}.
 * Every file must be private (as for {@code --key-file}); names starting with a dot (the Secret
 * volume's own bookkeeping) and unknown names are ignored.
 */
public final class KeyDirectory {

    public static final String ID_KEY = "id-key";
    public static final String CURRENT = "current";
    private static final Pattern KEY = Pattern.compile("key-([1-9][0-9]{0,8})");

    private KeyDirectory() {
    }

    public static ChunkKeys read(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new IOException("key directory " + dir + " does not exist; mount the repository's encryption-key "
                    + "Secret there (the operator's <repository>-repository-encryption-key)");
        }
        Path idFile = dir.resolve(ID_KEY);
        if (!Files.isRegularFile(idFile)) {
            throw new IOException("key directory " + dir + " has no " + ID_KEY + " file; the Secret needs an " + ID_KEY
                    + " entry of 32 random bytes (the operator adds it; an older operator did not)");
        }
        KeyFile.checkPrivate(idFile);
        byte[] idKey = Files.readAllBytes(idFile);
        if (idKey.length < 32) {
            throw new IOException(idFile + " has " + idKey.length + " bytes; an id key needs at least 32");
        }
        TreeMap<Integer, EncryptionKey> keys = new TreeMap<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            for (Path entry : entries) {
                Matcher m = KEY.matcher(entry.getFileName().toString());
                if (!m.matches() || !Files.isRegularFile(entry)) {
                    continue;
                }
                KeyFile.checkPrivate(entry);
                byte[] key = Files.readAllBytes(entry);
                if (key.length != 32) {
                    throw new IOException(entry + " has " + key.length + " bytes; an AES-256 key has 32");
                }
                keys.put(Integer.parseInt(m.group(1)), new EncryptionKey(Integer.parseInt(m.group(1)), key));
            }
        }
        Path currentFile = dir.resolve(CURRENT);
        if (!Files.isRegularFile(currentFile)) {
            if (keys.isEmpty()) {
                // A repository without encryption: only the id key.
                return new ChunkKeys(idKey, Optional.empty());
            }
            throw new IOException("key directory " + dir + " has keys " + names(keys) + " but no " + CURRENT
                    + " file naming the one new chunks use; add current=key-N to the Secret");
        }
        KeyFile.checkPrivate(currentFile);
        String current = Files.readString(currentFile, StandardCharsets.US_ASCII).trim();
        Matcher m = KEY.matcher(current);
        if (!m.matches()) {
            throw new IOException(currentFile + " holds '" + current + "'; it must name a key file such as key-1");
        }
        EncryptionKey now = keys.remove(Integer.parseInt(m.group(1)));
        if (now == null) {
            throw new IOException(currentFile + " names " + current + ", but " + dir.resolve(current)
                    + " does not exist; the directory has " + names(keys));
        }
        return new ChunkKeys(idKey, Optional.of(now), new ArrayList<>(keys.values()));
    }

    private static List<String> names(TreeMap<Integer, EncryptionKey> keys) {
        return keys.keySet().stream().map(id -> "key-" + id).toList();
    }
}
