package io.blockvault.agent.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.blockvault.agent.testing.Host;
import io.blockvault.agent.testing.LoopDevice;
import io.blockvault.agent.testing.TestRepository;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The runner jar as an administrator runs it: exit codes, --json, clear errors, no stack traces. */
class CliIT {

    static final long SIZE = 24L << 20;

    @TempDir
    Path dir;
    TestRepository repo;
    LoopDevice source;
    Path keys;
    final ObjectMapper json = new ObjectMapper();

    @BeforeEach
    void start() throws Exception {
        Host.requireRoot();
        repo = TestRepository.start(dir);
        source = LoopDevice.create(dir.resolve("src.img"), SIZE);
        byte[] data = new byte[(int) SIZE];
        new Random(11).nextBytes(data);
        java.util.Arrays.fill(data, 4 << 20, 12 << 20, (byte) 0);
        source.write(0, data);
        keys = TestRepository.writeKeyFile(dir.resolve("keys"));
    }

    @AfterEach
    void stop() throws Exception {
        try {
            source.close();
        } finally {
            repo.close();
        }
    }

    static Path jar() throws Exception {
        try (Stream<Path> s = Files.list(Path.of("target"))) {
            return s.filter(p -> p.getFileName().toString().endsWith("-runner.jar")).findFirst().orElseThrow(() ->
                    new IllegalStateException("the runner jar is missing; run ./mvnw -pl node-agent verify"));
        }
    }

    Host.Result agent(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar", jar().toAbsolutePath().toString()));
        cmd.addAll(List.of(args));
        return Host.run(dir, cmd);
    }

    List<String> remote(String... args) {
        List<String> a = new ArrayList<>(List.of(args));
        a.addAll(List.of("--repository", repo.address(), "--ca-file", repo.caFile().toString(), "--token-file",
                repo.tokenFile().toString(), "--key-file", keys.toString(), "--node", TestRepository.NODE));
        return a;
    }

    @Test
    void backupListRestoreVerifyOverTheTransportWithJson() throws Exception {
        Host.Result b = agent(remote("backup", "--device", source.device().toString(), "--snapshot", "nosnap",
                "--json", "--workers", "2").toArray(String[]::new));
        assertThat(b.exit()).as(b.stderr()).isZero();
        JsonNode r = json.readTree(b.stdout());
        assertThat(r.get("ok").asBoolean()).isTrue();
        assertThat(r.get("mode").asText()).isEqualTo("NoSnap");
        assertThat(r.get("scannedBytes").asLong()).isEqualTo(SIZE);
        assertThat(r.get("zeroChunks").asLong()).isEqualTo(2);
        String point = r.get("pointId").asText();

        Host.Result again = agent(remote("backup", "--device", source.device().toString(), "--snapshot", "auto",
                "--json").toArray(String[]::new));
        assertThat(again.exit()).as(again.stderr()).isZero();
        JsonNode r2 = json.readTree(again.stdout());
        assertThat(r2.get("sentBytes").asLong()).isZero();
        assertThat(r2.get("parentPointId").asText()).isEqualTo(point);

        Host.Result list = agent(remote("list", "--json").toArray(String[]::new));
        assertThat(list.exit()).isZero();
        assertThat(json.readTree(list.stdout()).get("points")).hasSize(2);

        Path out = dir.resolve("restored.img");
        Host.Result restore = agent(remote("restore", "--point", point, "--target", out.toString(), "--json")
                .toArray(String[]::new));
        assertThat(restore.exit()).as(restore.stderr()).isZero();
        assertThat(Files.readAllBytes(out)).isEqualTo(source.readDevice());

        Host.Result verify = agent(remote("verify", "--json").toArray(String[]::new));
        assertThat(verify.exit()).as(verify.stderr()).isZero();
        assertThat(json.readTree(verify.stdout()).get("points")).hasSize(2);
    }

    @Test
    void localDirectoryRepository() throws Exception {
        Path local = Files.createDirectories(dir.resolve("local-repo"));
        Host.Result b = agent("backup", "--repository-dir", local.toString(), "--key-file", keys.toString(),
                "--device", source.device().toString(), "--snapshot", "nosnap", "--node", "node-b");
        assertThat(b.exit()).as(b.stderr()).isZero();
        assertThat(b.stdout()).contains("committed").contains("NoSnap");
        assertThat(b.stderr()).contains("progress");
        Host.Result list = agent("list", "--repository-dir", local.toString(), "--key-file", keys.toString(),
                "--node", "node-b");
        assertThat(list.exit()).isZero();
        assertThat(list.stdout()).contains(source.device().getFileName().toString());
    }

    @Test
    void usageErrorsExitTwoAndFailuresExitOneWithoutStackTraces() throws Exception {
        Host.Result usage = agent("backup", "--device", source.device().toString());
        assertThat(usage.exit()).isEqualTo(2);
        assertThat(usage.stderr()).contains("--key-file");

        Host.Result badSnap = agent(remote("backup", "--device", source.device().toString(), "--snapshot", "lvm")
                .toArray(String[]::new));
        assertThat(badSnap.exit()).isEqualTo(2);
        assertThat(badSnap.stderr()).contains("unknown snapshot provider 'lvm'");

        Host.Result noRepo = agent("backup", "--repository", "127.0.0.1:1", "--ca-file", repo.caFile().toString(),
                "--token-file", repo.tokenFile().toString(), "--key-file", keys.toString(), "--device",
                source.device().toString(), "--snapshot", "nosnap", "--json");
        assertThat(noRepo.exit()).isEqualTo(1);
        assertThat(noRepo.stderr()).startsWith("error: ").contains("cannot reach the repository")
                .doesNotContain("\tat ");
        assertThat(json.readTree(noRepo.stdout()).get("ok").asBoolean()).isFalse();

        Host.Result missingPoint = agent(remote("restore", "--point", "nope", "--target", dir.resolve("x").toString())
                .toArray(String[]::new));
        assertThat(missingPoint.exit()).isEqualTo(1);
        assertThat(missingPoint.stderr()).startsWith("error: ").doesNotContain("\tat ");

        Host.Result mounted = agent(remote("restore", "--point", "nope", "--target", "/dev/does-not-exist-xyz")
                .toArray(String[]::new));
        assertThat(mounted.exit()).isEqualTo(1);
        assertThat(mounted.stderr()).startsWith("error: ").doesNotContain("\tat ");
    }

    /**
     * codec-throughput samples the device and reports every stage in MB/s; the pipeline (HMAC, zstd,
     * AES-GCM together) cannot be faster than its slowest stage alone. A bad option names itself.
     */
    @Test
    void codecThroughputMeasuresEachStageOfTheDevicesData() throws Exception {
        Host.Result r = agent("codec-throughput", "--device", source.device().toString(), "--sample-mib", "16",
                "--passes", "1", "--json");
        assertThat(r.exit()).as(r.stderr()).isZero();
        JsonNode m = json.readTree(r.stdout());
        assertThat(m.get("sample_bytes").asLong()).isEqualTo(16L << 20);
        double pipeline = m.get("pipeline_limit_MBps").asDouble();
        for (String stage : List.of("hmac_sha256_MBps", "zstd1_MBps", "aes256gcm_MBps", "codec_MBps")) {
            assertThat(m.get(stage).asDouble()).as(stage).isPositive();
        }
        assertThat(pipeline).isPositive().isLessThanOrEqualTo(
                Math.min(m.get("hmac_sha256_MBps").asDouble(), m.get("zstd1_MBps").asDouble()) * 1.2);
        // a third of the sample is zero-filled random data: compressible, not by half
        assertThat(m.get("compressed_ratio").asDouble()).isBetween(0.3, 0.9);

        Host.Result bad = agent("codec-throughput", "--device", source.device().toString(), "--passes", "0");
        assertThat(bad.exit()).isEqualTo(2);
        assertThat(bad.stderr()).contains("--passes");
    }

    /**
     * --server-name: dial 127.0.0.1 but verify the certificate for another name it carries (the test
     * certificate names localhost and 127.0.0.1); a name it does not carry fails the handshake. The
     * keys come from a key directory as the cluster mounts them.
     */
    @Test
    void serverNameIsWhatTheCertificateIsCheckedForAndKeysComeFromAKeyDirectory() throws Exception {
        Path keyDir = TestRepository.writeKeyDir(Files.createDirectories(dir.resolve("key-dir")), "key-1", 1);
        List<String> base = List.of("list", "--repository", repo.address(), "--ca-file", repo.caFile().toString(),
                "--token-file", repo.tokenFile().toString(), "--key-dir", keyDir.toString(), "--node",
                TestRepository.NODE);
        List<String> good = new ArrayList<>(base);
        good.addAll(List.of("--server-name", "localhost"));
        Host.Result ok = agent(good.toArray(String[]::new));
        assertThat(ok.exit()).as(ok.stderr()).isZero();

        List<String> wrong = new ArrayList<>(base);
        wrong.addAll(List.of("--server-name", "backup.example.org"));
        Host.Result refused = agent(wrong.toArray(String[]::new));
        assertThat(refused.exit()).as(refused.stdout()).isEqualTo(1);
        assertThat(refused.stderr()).startsWith("error: TLS to the repository failed").contains("--server-name")
                .doesNotContain("\tat ");

        List<String> both = new ArrayList<>(good);
        both.addAll(List.of("--key-file", keys.toString()));
        Host.Result usage = agent(both.toArray(String[]::new));
        assertThat(usage.exit()).isEqualTo(2);
        assertThat(usage.stderr()).contains("--key-file").contains("--key-dir").contains("mutually exclusive");

        Host.Result local = agent("list", "--repository-dir", dir.toString(), "--server-name", "localhost",
                "--key-dir", keyDir.toString());
        assertThat(local.exit()).isEqualTo(2);
        assertThat(local.stderr()).contains("--server-name goes with --repository");
    }
}
