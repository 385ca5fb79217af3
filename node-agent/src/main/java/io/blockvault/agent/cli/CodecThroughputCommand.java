package io.blockvault.agent.cli;

import com.github.luben.zstd.Zstd;
import com.github.luben.zstd.ZstdCompressCtx;
import com.github.luben.zstd.ZstdDecompressCtx;
import io.blockvault.repository.format.AesGcm;
import io.blockvault.repository.format.ChunkCodec;
import io.blockvault.repository.format.ChunkId;
import io.blockvault.repository.format.ChunkKeys;
import io.blockvault.repository.format.EncryptionKey;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * What this node's CPUs can do with a device's data, in memory: each stage of the backup pipeline
 * alone and together (HMAC-SHA-256, zstd level 1, AES-256-GCM as {@link AesGcm} runs it), then the codec as a backup runs it.
 * The pipeline figure is the ceiling a full backup can reach on this node whatever the disk and the
 * network; bench/agent compares backups with it. Keys are random: nothing is stored.
 */
@Command(name = "codec-throughput", mixinStandardHelpOptions = true,
        description = "Measure in memory how fast this node hashes, compresses and encrypts a sample of a device.")
public final class CodecThroughputCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--device", required = true, paramLabel = "PATH", description = "block device or image to sample")
    Path device;

    @Option(names = "--sample-mib", paramLabel = "MIB", defaultValue = "128",
            description = "data sampled, in chunks spread evenly over the device (default: ${DEFAULT-VALUE})")
    int sampleMib;

    @Option(names = "--chunk-size-mib", paramLabel = "MIB", defaultValue = "4",
            description = "chunk size (default: ${DEFAULT-VALUE})")
    int chunkSizeMib;

    @Option(names = "--threads", paramLabel = "N", description = "threads (default: CPU count)")
    Integer threads;

    @Option(names = "--passes", paramLabel = "N", defaultValue = "3",
            description = "passes over the sample per stage; the median is reported (default: ${DEFAULT-VALUE})")
    int passes;

    @Option(names = "--json", description = "one JSON object on stdout")
    boolean json;

    /** One stage: does its work on one chunk, with state private to its thread. */
    private interface Stage {
        void run(byte[] chunk) throws GeneralSecurityException;
    }

    @Override
    public Integer call() throws Exception {
        int nThreads = threads == null ? Runtime.getRuntime().availableProcessors() : threads;
        if (sampleMib < 1 || chunkSizeMib < 1 || chunkSizeMib > 64 || nThreads < 1 || passes < 1) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--sample-mib, --threads and --passes must be"
                    + " positive and --chunk-size-mib 1..64");
        }
        List<byte[]> sample = readSample();
        byte[] idKey = random(32);
        byte[] aesKey = random(32);
        ChunkCodec codec = new ChunkCodec(new ChunkKeys(idKey, java.util.Optional.of(new EncryptionKey(1, aesKey))));
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("ok", true);
        m.put("threads", nThreads);
        m.put("sample_bytes", sample.stream().mapToLong(c -> c.length).sum());
        m.put("compressed_ratio", compressedRatio(sample));
        ExecutorService pool = Executors.newFixedThreadPool(nThreads);
        try {
            m.put("hmac_sha256_MBps", measure(pool, nThreads, sample, () -> hmac(idKey)));
            m.put("zstd1_MBps", measure(pool, nThreads, sample, CodecThroughputCommand::zstd));
            java.util.Map<byte[], byte[]> compressed = new java.util.IdentityHashMap<>();
            sample.forEach(c -> compressed.put(c, Zstd.compress(c, 1)));
            m.put("zstd1_decompress_MBps", measure(pool, nThreads, sample, () -> unzstd(compressed)));
            m.put("aes256gcm_MBps", measure(pool, nThreads, sample, () -> aes(aesKey)));
            m.put("pipeline_limit_MBps", measure(pool, nThreads, sample, () -> pipeline(idKey, aesKey)));
            m.put("codec_MBps", measure(pool, nThreads, sample, () -> chunk -> {
                ChunkId id = codec.idOf(chunk, 0, chunk.length);
                codec.encode(chunk, 0, chunk.length, id);
            }));
        } finally {
            pool.shutdownNow();
        }
        Output out = new Output(System.out);
        if (json) {
            out.json(m);
        } else {
            m.forEach((k, v) -> out.line(k + ": " + v));
        }
        return 0;
    }

    private List<byte[]> readSample() throws IOException {
        int chunk = chunkSizeMib << 20;
        try (FileChannel ch = FileChannel.open(device, StandardOpenOption.READ)) {
            long size = io.blockvault.agent.device.BlockDevices.sizeOf(device);
            long chunks = Math.max(1, size / chunk);
            int wanted = (int) Math.min(chunks, Math.max(1, ((long) sampleMib << 20) / chunk));
            List<byte[]> sample = new ArrayList<>();
            for (int i = 0; i < wanted; i++) {
                long offset = chunks * i / wanted * chunk;
                byte[] b = new byte[(int) Math.min(chunk, size - offset)];
                ByteBuffer buf = ByteBuffer.wrap(b);
                while (buf.hasRemaining() && ch.read(buf, offset + buf.position()) > 0) {
                    // read until the chunk is full
                }
                sample.add(b);
            }
            return sample;
        }
    }

    /** Median over the passes of plaintext MB/s (decimal), all threads taking chunks from one queue. */
    private double measure(ExecutorService pool, int nThreads, List<byte[]> sample,
            java.util.function.Supplier<Stage> stages) throws Exception {
        double[] rates = new double[passes + 1];
        long bytes = sample.stream().mapToLong(c -> c.length).sum();
        for (int pass = 0; pass <= passes; pass++) { // pass 0 warms the JIT up and is not counted
            AtomicInteger next = new AtomicInteger();
            List<Future<?>> runs = new ArrayList<>();
            long t0 = System.nanoTime();
            for (int t = 0; t < nThreads; t++) {
                runs.add(pool.submit(() -> {
                    Stage stage = stages.get();
                    for (int i; (i = next.getAndIncrement()) < sample.size(); ) {
                        stage.run(sample.get(i));
                    }
                    return null;
                }));
            }
            for (Future<?> f : runs) {
                f.get();
            }
            rates[pass] = bytes / ((System.nanoTime() - t0) / 1e9) / 1e6;
        }
        double[] counted = Arrays.copyOfRange(rates, 1, rates.length);
        Arrays.sort(counted);
        return Math.round(counted[counted.length / 2] * 10) / 10.0;
    }

    private static double compressedRatio(List<byte[]> sample) {
        long in = 0;
        long out = 0;
        for (byte[] c : sample) {
            in += c.length;
            out += Math.min(c.length, Zstd.compress(c, 1).length);
        }
        return Math.round(1000.0 * out / in) / 1000.0;
    }

    private static Stage hmac(byte[] key) {
        Mac mac = mac(key);
        return chunk -> mac.doFinal(chunk);
    }

    private static Stage zstd() {
        ZstdCompressCtx ctx = new ZstdCompressCtx().setLevel(1);
        byte[][] holder = {new byte[0]};
        return chunk -> {
            holder[0] = grow(holder[0], (int) Zstd.compressBound(chunk.length));
            ctx.compressByteArray(holder[0], 0, holder[0].length, chunk, 0, chunk.length);
        };
    }

    /** Decompresses the compressed form of each chunk (made once, before anything is timed). */
    private static Stage unzstd(java.util.Map<byte[], byte[]> compressed) {
        ZstdDecompressCtx ctx = new ZstdDecompressCtx();
        byte[][] holder = {new byte[0]};
        return chunk -> {
            byte[] z = compressed.get(chunk);
            holder[0] = grow(holder[0], chunk.length);
            ctx.decompressByteArray(holder[0], 0, chunk.length, z, 0, z.length);
        };
    }

    private static Stage aes(byte[] key) {
        AesGcm gcm = new AesGcm();
        SecureRandom random = new SecureRandom();
        byte[][] holder = {new byte[0]};
        return chunk -> {
            holder[0] = grow(holder[0], chunk.length + 16);
            encrypt(gcm, key, random, chunk, chunk.length, holder[0]);
        };
    }

    /** HMAC, zstd 1, AES-GCM of the compressed form: the work a chunk the repository lacks needs at least. */
    private static Stage pipeline(byte[] idKey, byte[] aesKey) {
        Mac mac = mac(idKey);
        ZstdCompressCtx ctx = new ZstdCompressCtx().setLevel(1);
        AesGcm gcm = new AesGcm();
        SecureRandom random = new SecureRandom();
        byte[][] holder = {new byte[0], new byte[0]};
        return chunk -> {
            mac.doFinal(chunk);
            holder[0] = grow(holder[0], (int) Zstd.compressBound(chunk.length));
            int n = ctx.compressByteArray(holder[0], 0, holder[0].length, chunk, 0, chunk.length);
            holder[1] = grow(holder[1], n + 16);
            encrypt(gcm, aesKey, random, holder[0], n, holder[1]);
        };
    }

    private static void encrypt(AesGcm gcm, byte[] key, SecureRandom random, byte[] in, int length, byte[] out)
            throws GeneralSecurityException {
        byte[] nonce = new byte[AesGcm.NONCE];
        random.nextBytes(nonce);
        gcm.encrypt(key, nonce, new byte[0], in, 0, length, out, 0);
    }

    private static byte[] grow(byte[] b, int size) {
        return b.length >= size ? b : new byte[size];
    }

    private static Mac mac(byte[] key) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JVM lacks HMAC-SHA-256", e);
        }
    }

    private static byte[] random(int n) {
        byte[] b = new byte[n];
        new SecureRandom().nextBytes(b);
        return b;
    }
}
