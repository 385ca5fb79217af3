package io.blockvault.agent.controller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DeviceResolverTest {

    @TempDir
    Path dir;

    final DeviceResolver resolver = new DeviceResolver();

    @Test
    void plainPathThatExistsIsItself() throws Exception {
        Path disk = Files.createFile(dir.resolve("sdb"));
        assertThat(resolver.resolve(disk.toString())).isEqualTo(disk);
    }

    @Test
    void missingPlainPathIsDeviceNotFoundNamingIt() {
        String missing = dir.resolve("nvme-missing").toString();
        assertThatThrownBy(() -> resolver.resolve(missing)).isInstanceOfSatisfying(JobFailure.class, f -> {
            assertThat(f.reason()).isEqualTo("DeviceNotFound");
            assertThat(f.getMessage()).contains(missing, "spec.device", "spec.nodeName");
        });
    }

    @Test
    void globMatchingOneEntryResolvesToIt() throws Exception {
        Path byId = Files.createDirectories(dir.resolve("disk/by-id"));
        Path nvme = Files.createFile(byId.resolve("nvme-data-1"));
        Files.createFile(byId.resolve("ata-other"));
        assertThat(resolver.resolve(byId + "/nvme-*")).isEqualTo(nvme);
        assertThat(resolver.resolve(dir + "/disk/*/nvme-data-?")).isEqualTo(nvme);
    }

    @Test
    void globMatchingNothingIsDeviceNotFound() throws Exception {
        Path byId = Files.createDirectories(dir.resolve("disk/by-id"));
        Files.createFile(byId.resolve("ata-other"));
        assertThatThrownBy(() -> resolver.resolve(byId + "/nvme-*")).isInstanceOfSatisfying(JobFailure.class,
                f -> {
                    assertThat(f.reason()).isEqualTo("DeviceNotFound");
                    assertThat(f.getMessage()).contains("no device on this node matches " + byId + "/nvme-*");
                });
        assertThatThrownBy(() -> resolver.resolve(dir + "/absent/nvme-*")).isInstanceOfSatisfying(
                JobFailure.class, f -> assertThat(f.reason()).isEqualTo("DeviceNotFound"));
    }

    @Test
    void globMatchingSeveralIsAmbiguousListingThem() throws Exception {
        Path byId = Files.createDirectories(dir.resolve("disk/by-id"));
        Files.createFile(byId.resolve("nvme-a"));
        Files.createFile(byId.resolve("nvme-b"));
        assertThatThrownBy(() -> resolver.resolve(byId + "/nvme-*")).isInstanceOfSatisfying(JobFailure.class,
                f -> {
                    assertThat(f.reason()).isEqualTo("AmbiguousDevice");
                    assertThat(f.getMessage()).contains("matches 2 devices", byId + "/nvme-a", byId + "/nvme-b",
                            "exactly one");
                });
    }
}
