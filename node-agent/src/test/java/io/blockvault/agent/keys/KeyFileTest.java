package io.blockvault.agent.keys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.blockvault.repository.format.ChunkKeys;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Base64;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KeyFileTest {

    static final String ID = Base64.getEncoder().encodeToString(new byte[32]);
    static final String ENC = Base64.getEncoder().encodeToString(new byte[32]);

    @TempDir
    Path dir;

    @Test
    void readsIdAndEncryptionKeys() throws IOException {
        Path f = dir.resolve("keys");
        Files.writeString(f, "# keys\nid-key=" + ID + "\nencryption-key=" + ENC + "\nencryption-key-id=3\n");
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-------"));
        ChunkKeys k = KeyFile.read(f);
        assertThat(k.idKey()).hasSize(32);
        assertThat(k.encryption()).hasValueSatisfying(e -> assertThat(e.keyId()).isEqualTo(3));
    }

    @Test
    void encryptionIsOptional() throws IOException {
        assertThat(KeyFile.parse("id-key=" + ID, "t").encryption()).isEmpty();
    }

    @Test
    void clearErrors() throws IOException {
        assertThatThrownBy(() -> KeyFile.parse("encryption-key=" + ENC, "t")).hasMessageContaining("no id-key");
        assertThatThrownBy(() -> KeyFile.parse("id-key=AAAA", "t")).hasMessageContaining("at least 32");
        assertThatThrownBy(() -> KeyFile.parse("id-key=" + ID + "\nencryption-key=" + ENC, "t"))
                .hasMessageContaining("encryption-key-id");
        assertThatThrownBy(() -> KeyFile.parse("id-key=%%%", "t")).hasMessageContaining("base64");
        Path f = dir.resolve("open");
        Files.writeString(f, "id-key=" + ID);
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-r--r--"));
        assertThatThrownBy(() -> KeyFile.read(f)).hasMessageContaining("chmod 600");
    }
}
