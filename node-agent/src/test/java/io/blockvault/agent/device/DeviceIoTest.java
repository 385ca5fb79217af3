package io.blockvault.agent.device;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DeviceIoTest {

    @TempDir
    Path dir;

    @Test
    void directReadsReturnTheBytesIncludingAShortTail() throws Exception {
        byte[] data = new byte[3 * 65536 + 1000];
        new Random(1).nextBytes(data);
        Path f = Files.write(dir.resolve("img"), data);
        try (DeviceReader r = DeviceReader.open(f, true)) {
            byte[] buf = new byte[65536];
            r.read(65536, buf, 65536);
            assertThat(buf).isEqualTo(java.util.Arrays.copyOfRange(data, 65536, 131072));
            r.read(3 * 65536, buf, 1000);
            assertThat(java.util.Arrays.copyOf(buf, 1000)).isEqualTo(java.util.Arrays.copyOfRange(data, 196608,
                    data.length));
        }
    }

    @Test
    void fallsBackWithANoteWhereODirectIsRefused() throws Exception {
        // as on filesystems without O_DIRECT support: open(2) fails with EINVAL
        Path f = Files.write(dir.resolve("plain.img"), new byte[8192]);
        try (DeviceReader r = DeviceReader.open(f, true, p -> {
            throw new java.nio.file.FileSystemException(p.toString(), null, "Invalid argument");
        })) {
            assertThat(r.direct()).isFalse();
            assertThat(r.note()).hasValueSatisfying(n -> assertThat(n).contains("O_DIRECT").contains(f.toString()));
            byte[] buf = new byte[8192];
            r.read(0, buf, 8192);
        } finally {
            Files.deleteIfExists(f);
        }
    }

    @Test
    void aFreshFileTargetIsSparseAndSkipsZeroes() throws Exception {
        Path f = dir.resolve("new.img");
        try (DeviceWriter w = DeviceWriter.open(f, 1 << 20, true)) {
            assertThat(w.targetIsZeroed()).isTrue();
            byte[] data = new byte[65536];
            new Random(2).nextBytes(data);
            w.write(65536, data, data.length);
            w.zero(0, 65536);
            w.finish();
        }
        assertThat(Files.size(f)).isEqualTo(1 << 20);
        byte[] back = Files.readAllBytes(f);
        assertThat(back[0]).isZero();
        // an existing file is not known to be zero: zero ranges are written
        Files.write(f, new byte[] {1, 1, 1, 1}, java.nio.file.StandardOpenOption.WRITE);
        try (DeviceWriter w = DeviceWriter.open(f, 1 << 20, true)) {
            assertThat(w.targetIsZeroed()).isFalse();
            w.zero(0, 4096);
            w.finish();
        }
        assertThat(Files.readAllBytes(f)[0]).isZero();
    }
}
