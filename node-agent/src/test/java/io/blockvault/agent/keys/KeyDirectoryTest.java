package io.blockvault.agent.keys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.blockvault.agent.testing.TestRepository;
import io.blockvault.repository.format.ChunkCodec;
import io.blockvault.repository.format.ChunkKeys;
import io.blockvault.repository.format.EncodedChunk;
import io.blockvault.repository.format.EncryptionKey;
import io.blockvault.repository.format.FormatException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code --key-dir}: the operator's encryption-key Secret as kubelet mounts it. */
class KeyDirectoryTest {

    @TempDir
    Path dir;

    @Test
    void currentEncryptsAndEveryKeyDecrypts() throws Exception {
        ChunkKeys keys = KeyDirectory.read(TestRepository.writeKeyDir(dir, "key-2", 1, 2));
        assertThat(keys.idKey()).isEqualTo(TestRepository.keys().idKey());
        assertThat(keys.encryption()).map(EncryptionKey::keyId).contains(2);
        assertThat(keys.encryption().orElseThrow().key()).isEqualTo(TestRepository.encryptionKey(2));
        assertThat(keys.previous()).extracting(EncryptionKey::keyId).containsExactly(1);
        assertThat(keys.decryptionKey(1)).map(EncryptionKey::key).hasValueSatisfying(k ->
                assertThat(k).isEqualTo(TestRepository.encryptionKey(1)));
        assertThat(keys.decryptionKey(3)).isEmpty();
    }

    @Test
    void aChunkWrittenUnderTheOldKeyIsReadAfterRotation() throws Exception {
        byte[] plain = new byte[64 << 10];
        new Random(3).nextBytes(plain);
        ChunkCodec before = new ChunkCodec(KeyDirectory.read(TestRepository.writeKeyDir(dir.resolve("a"), "key-1", 1)));
        EncodedChunk old = before.encode(plain, 0, plain.length);
        ChunkCodec after = new ChunkCodec(KeyDirectory.read(TestRepository.writeKeyDir(dir.resolve("b"), "key-2", 1,
                2)));
        EncodedChunk fresh = after.encode(plain, 0, plain.length);
        assertThat(fresh.id()).isEqualTo(old.id()); // same id key: dedup across the rotation
        assertThat(after.decode(old.id(), old.stored(), old.stored().length)).isEqualTo(plain);
        assertThat(before.decode(old.id(), old.stored(), old.stored().length)).isEqualTo(plain);
        // Only key-2 left: the old chunk names a key this client lacks.
        ChunkCodec onlyNew = new ChunkCodec(KeyDirectory.read(TestRepository.writeKeyDir(dir.resolve("c"), "key-2",
                2)));
        assertThatThrownBy(() -> onlyNew.decode(old.id(), old.stored(), old.stored().length))
                .isInstanceOf(FormatException.class).hasMessageContaining("key id 1");
    }

    @Test
    void missingFilesAreNamed() throws Exception {
        assertThatThrownBy(() -> KeyDirectory.read(dir.resolve("none"))).hasMessageContaining("does not exist")
                .hasMessageContaining("encryption-key Secret");
        TestRepository.writeKeyDir(dir, "key-3", 1, 2);
        assertThatThrownBy(() -> KeyDirectory.read(dir)).hasMessageContaining("names key-3")
                .hasMessageContaining(dir.resolve("key-3") + " does not exist");
        Files.delete(dir.resolve("current"));
        assertThatThrownBy(() -> KeyDirectory.read(dir)).hasMessageContaining("no current file");
        Files.delete(dir.resolve("id-key"));
        assertThatThrownBy(() -> KeyDirectory.read(dir)).hasMessageContaining("no id-key file");
    }

    @Test
    void badContentIsNamed() throws Exception {
        TestRepository.writeKeyDir(dir, "key-1", 1);
        Path current = dir.resolve("..data").resolve("current");
        Files.setPosixFilePermissions(current, PosixFilePermissions.fromString("rw-------"));
        Files.writeString(current, "first");
        assertThatThrownBy(() -> KeyDirectory.read(dir)).hasMessageContaining("holds 'first'");
        Path key = dir.resolve("..data").resolve("key-1");
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-------"));
        Files.write(key, new byte[16]);
        assertThatThrownBy(() -> KeyDirectory.read(dir)).hasMessageContaining("key-1 has 16 bytes");
    }

    @Test
    void filesOthersCanReadAreRefused() throws Exception {
        TestRepository.writeKeyDir(dir, "key-1", 1);
        Files.setPosixFilePermissions(dir.resolve("..data").resolve("key-1"),
                PosixFilePermissions.fromString("r--r--r--"));
        assertThatThrownBy(() -> KeyDirectory.read(dir)).hasMessageContaining("readable by others")
                .hasMessageContaining("key-1");
    }
}
