package io.blockvault.repository.store;

import io.blockvault.repository.client.PointRef;
import io.blockvault.repository.client.PointSummary;
import io.blockvault.repository.client.Repository;
import io.blockvault.repository.client.RepositoryException;
import io.blockvault.repository.client.RepositoryException.Reason;
import io.blockvault.repository.client.RepositoryStats;
import io.blockvault.repository.client.VerifyReport;
import io.blockvault.repository.format.ChunkHeader;
import io.blockvault.repository.format.ChunkId;
import io.blockvault.repository.format.FormatException;
import io.blockvault.repository.format.IndexCodec;
import io.blockvault.repository.format.Names;
import io.blockvault.repository.format.RestorePointIndex;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileStore;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The repository as the transport sees it, on the local filesystem: it writes only into
 * {@code incoming/} and reads from {@code store/} (the guard's sealed, immutable copies) and
 * {@code incoming/}. It does no authorisation; the transport does that before calling it. Thread-safe.
 */
public final class RepositoryStore implements Repository {

    private final RepositoryLayout layout;
    private final StoreLimits limits;
    private final Map<String, AtomicLong> usage = new ConcurrentHashMap<>();
    /** Bytes of indexes each node is committing right now (temp files in incoming/tmp). */
    private final Map<String, AtomicLong> committing = new ConcurrentHashMap<>();
    /** Bytes each node's lease files take (as last counted; recounted at every lease write). */
    private final Map<String, AtomicLong> leaseBytes = new ConcurrentHashMap<>();
    /** Lease files each node holds (as last counted, plus those written since). */
    private final Map<String, Integer> leaseFiles = new ConcurrentHashMap<>();
    private final Map<String, Long> leasesCountedAt = new ConcurrentHashMap<>();
    /**
     * When this process wrote each lease file it still holds, by System.nanoTime: for those, the
     * monotonic clock and not the file's mtime says when they expire, so a wall clock set ahead does
     * not make a running backup's leases look expired (nor one set back keep them forever).
     */
    private final Map<Path, Long> leaseWrittenNanos = new ConcurrentHashMap<>();
    private final Map<String, Object> leaseLocks = new ConcurrentHashMap<>();
    private final ChunkPresence presence = new ChunkPresence();
    /** Bytes of chunk files found by the last scan, and of the chunks created since (for STATS). */
    private final Object chunkScan = new Object();
    private volatile long scannedChunkBytes;
    private volatile long createdAtScan;
    private volatile long scannedAtNanos;
    private volatile boolean chunksScanned;
    private final AtomicLong createdChunkBytes = new AtomicLong();
    /**
     * What a listing shows of each restore point ("node/point"), but its seal and lock, read from its
     * index once: indexes never change, and parsing every index (ids and all) at every LIST let a node
     * make the server read and allocate all its index bytes per 10-byte request.
     */
    private final Map<String, PointSummary> summaries = new ConcurrentHashMap<>();
    /** Logical bytes per restore point ("node/point"); indexes never change, so this is never stale. */
    private final Map<String, Long> logicalBytes = new ConcurrentHashMap<>();

    /**
     * How often STATS recounts chunk files: only the guard's GC removes chunks, and the transport does
     * not see it, so between recounts stored bytes may include chunks GC removed.
     */
    static final long CHUNK_RESCAN_NANOS = TimeUnit.MINUTES.toNanos(10);

    /** What a small file costs on disk at least: one filesystem block. */
    static final long BLOCK = 4096;
    /**
     * How long a node's lease count is trusted before the directory is listed again (removing expired
     * leases): listing at every lack check would cost a stat per lease file each time.
     */
    static final long LEASE_RECOUNT_NANOS = TimeUnit.MINUTES.toNanos(1);
    /**
     * The suffix of a commit's lease. It exists only while a commit checks and publishes (and is
     * removed at start, when none can be running), so the guard honours it fully; lack-check leases
     * it honours only for a while after a chunk lost its last reference.
     */
    public static final String COMMIT_LEASE_SUFFIX = "-commit.lease";

    private final GuardClockWitness guardClock = new GuardClockWitness();

    public RepositoryStore(RepositoryLayout layout, StoreLimits limits) {
        this.layout = layout;
        this.limits = limits;
    }

    public RepositoryLayout layout() {
        return layout;
    }

    /** Creates the incoming area (the store is the guard's) and removes temp files a crash left behind. */
    public void open() throws IOException {
        for (Path p : List.of(layout.incomingTmp(), layout.incomingChunks(), layout.incomingPoints(), layout.leases(),
                layout.requests(), layout.usage())) {
            Files.createDirectories(p);
        }
        try (Stream<Path> s = Files.list(layout.incomingTmp())) {
            for (Path p : (Iterable<Path>) s::iterator) {
                Files.deleteIfExists(p);
            }
        }
        rescanChunks();
        long now = System.currentTimeMillis();
        if (Files.isDirectory(layout.leases())) {
            try (Stream<Path> s = Files.walk(layout.leases())) {
                for (Path p : (Iterable<Path>) s.filter(Files::isRegularFile)::iterator) {
                    if (now - Files.getLastModifiedTime(p).toMillis() > limits.leaseTtlMillis()
                            || p.getFileName().toString().endsWith(COMMIT_LEASE_SUFFIX)) {
                        Files.deleteIfExists(p);
                    }
                }
            }
            try (DirectoryStream<Path> nodes = Files.newDirectoryStream(layout.leases(), Files::isDirectory)) {
                for (Path dir : nodes) {
                    recountLeases(dir.getFileName().toString());
                }
            }
        }
    }

    /**
     * Lists every chunk file (a stat per file from the directory walk, no reads), adds it to the
     * presence table and recounts stored bytes. Incoming before store, and a chunk seen in both (the
     * guard moved it meanwhile) counted once: the incoming set is small, it holds only unsealed chunks.
     */
    private void rescanChunks() throws IOException {
        synchronized (chunkScan) {
            long created = createdChunkBytes.get();
            Set<ChunkId> incoming = new HashSet<>();
            long[] bytes = {0};
            for (Path dir : List.of(layout.incomingChunks(), layout.storeChunks())) {
                if (!Files.isDirectory(dir)) {
                    continue;
                }
                boolean isIncoming = dir.equals(layout.incomingChunks());
                Files.walkFileTree(dir, Set.of(), 2, new SimpleFileVisitor<>() {
                    @Override
                    public FileVisitResult visitFile(Path p, BasicFileAttributes a) {
                        String name = p.getFileName().toString();
                        if (a.isRegularFile() && name.length() == ChunkId.LENGTH * 2) {
                            try {
                                ChunkId id = ChunkId.parse(name);
                                presence.add(id);
                                if (isIncoming ? incoming.add(id) : !incoming.contains(id)) {
                                    bytes[0] += a.size();
                                }
                            } catch (IllegalArgumentException e) {
                                // not a chunk file
                            }
                        }
                        return FileVisitResult.CONTINUE;
                    }

                    @Override
                    public FileVisitResult visitFileFailed(Path p, IOException e) {
                        return FileVisitResult.CONTINUE; // moved or removed meanwhile
                    }
                });
            }
            scannedChunkBytes = bytes[0];
            createdAtScan = created;
            scannedAtNanos = System.nanoTime();
            chunksScanned = true;
        }
    }

    /** Where a chunk can be read: the sealed store copy, else the incoming one. */
    public Optional<Path> chunkFile(ChunkId id) {
        Path sealed = layout.storeChunk(id);
        if (Files.exists(sealed)) {
            return Optional.of(sealed);
        }
        Path incoming = layout.incomingChunk(id);
        return Files.exists(incoming) ? Optional.of(incoming) : Optional.empty();
    }

    public boolean hasChunk(ChunkId id) {
        return id.isZero() || chunkFile(id).isPresent();
    }

    @Override
    public Set<ChunkId> missingChunks(String node, String sessionId, List<ChunkId> ids) throws IOException {
        Names.requireNode(node);
        Names.requirePoint(sessionId);
        Set<ChunkId> missing = new HashSet<>();
        // A set: a request that repeats one stored id 262 000 times leases it once, not 262 000 times.
        Set<ChunkId> present = new LinkedHashSet<>();
        for (ChunkId id : ids) {
            if (id.isZero() || missing.contains(id) || present.contains(id)) {
                continue;
            }
            // a miss in the presence table is exact; a hit is confirmed on disk (collision, or GC)
            if (presence.mayContain(id) && hasChunk(id)) {
                present.add(id);
            } else {
                missing.add(id);
            }
        }
        if (!present.isEmpty()) {
            writeLease(node, sessionId, present, sessionId + "-" + UUID.randomUUID() + ".lease", true);
        }
        return missing;
    }

    /** What a node's lease files take: bytes (each file at least a block) and files. */
    private record LeaseUse(long bytes, int files) {
    }

    private static long onDisk(long bytes) {
        return Math.max(BLOCK, (bytes + BLOCK - 1) / BLOCK * BLOCK);
    }

    /**
     * Counts a node's lease files and removes those past their TTL (the guard no longer honours them,
     * and a crashed backup's leases must not hold the node's lease budget). {@code except} is not
     * counted: the file about to be replaced.
     */
    private LeaseUse countLeases(Path dir, String except) throws IOException {
        long now = System.currentTimeMillis();
        long bytes = 0;
        int files = 0;
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir, "*.lease")) {
            for (Path p : s) {
                BasicFileAttributes a;
                try {
                    a = Files.readAttributes(p, BasicFileAttributes.class);
                } catch (NoSuchFileException e) {
                    continue; // released meanwhile
                }
                Long written = leaseWrittenNanos.get(p);
                boolean expired = written != null
                        ? System.nanoTime() - written > TimeUnit.MILLISECONDS.toNanos(limits.leaseTtlMillis())
                        : now - a.lastModifiedTime().toMillis() > limits.leaseTtlMillis();
                if (expired) {
                    Files.deleteIfExists(p);
                    leaseWrittenNanos.remove(p);
                } else if (!p.getFileName().toString().equals(except)) {
                    bytes += onDisk(a.size());
                    files++;
                }
            }
        }
        return new LeaseUse(bytes, files);
    }

    /**
     * Writes (or replaces) one lease file of a node after checking the node's lease budget
     * ({@code capped}: lack-check leases; a commit's lease is bounded by the index size instead), its
     * quota and the free-space reserve. Serialised per node, so parallel lack checks cannot pass the
     * budget together.
     */
    private void writeLease(String node, String sessionId, Collection<ChunkId> ids, String name, boolean capped)
            throws IOException {
        Path dir = layout.leases().resolve(node);
        Files.createDirectories(dir);
        byte[] buf = new byte[ids.size() * ChunkId.LENGTH];
        int i = 0;
        for (ChunkId id : ids) {
            id.copyTo(buf, i++ * ChunkId.LENGTH);
        }
        long cost = onDisk(buf.length);
        synchronized (leaseLocks.computeIfAbsent(node, n -> new Object())) {
            AtomicLong charged = leaseBytes.computeIfAbsent(node, n -> new AtomicLong());
            Long countedAt = leasesCountedAt.get(node);
            boolean stale = countedAt == null || System.nanoTime() - countedAt > LEASE_RECOUNT_NANOS;
            LeaseUse use = new LeaseUse(charged.get(), leaseFiles.getOrDefault(node, 0));
            // A replaced file (a commit's lease) and a refusal are worth an exact count: the cached one
            // does not know what expired meanwhile.
            if (stale || !capped || use.files() + 1 > limits.maxLeaseFilesPerNode()
                    || use.bytes() + cost > limits.maxLeaseBytesPerNode()) {
                use = countLeases(dir, name);
                charged.set(use.bytes());
                leaseFiles.put(node, use.files());
                leasesCountedAt.put(node, System.nanoTime());
            }
            if (capped && use.files() + 1 > limits.maxLeaseFilesPerNode()) {
                throw new RepositoryException(Reason.QUOTA_EXCEEDED, "node " + node + " holds " + use.files()
                        + " lease files, its limit (--max-lease-files-per-node); its running backups must commit "
                        + "or be abandoned (leases expire after " + limits.leaseTtlMillis() / 1000 + " s)");
            }
            if (capped && use.bytes() + cost > limits.maxLeaseBytesPerNode()) {
                throw new RepositoryException(Reason.QUOTA_EXCEEDED, "node " + node + " holds " + use.bytes()
                        + " bytes of leases; " + cost + " more would pass its limit of " + limits.maxLeaseBytesPerNode()
                        + " (--max-lease-bytes-per-node); its running backups must commit or be abandoned");
            }
            requireQuota(node, cost, "a lease of " + ids.size() + " chunk ids");
            requireFree(cost);
            // A lease only protects chunks from GC, so it needs no fsync: after a crash the commit's own
            // existence check (and its lease) is what counts.
            Path tmp = layout.incomingTmp().resolve(sessionId + "." + UUID.randomUUID() + ".lease");
            try {
                Files.write(tmp, buf);
                Files.move(tmp, dir.resolve(name), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                leaseWrittenNanos.put(dir.resolve(name), System.nanoTime());
            } finally {
                Files.deleteIfExists(tmp);
            }
            charged.addAndGet(cost);
            leaseFiles.merge(node, 1, Integer::sum);
        }
    }

    private void releaseLeases(String node, String sessionId) throws IOException {
        Path dir = layout.leases().resolve(node);
        if (!Files.isDirectory(dir)) {
            return;
        }
        synchronized (leaseLocks.computeIfAbsent(node, n -> new Object())) {
            // Not the glob SESSION-*.lease: it also matches session SESSION-x (its lack leases, and its
            // commit lease while that commit checks and publishes).
            try (DirectoryStream<Path> s = Files.newDirectoryStream(dir, p -> isLeaseOf(sessionId,
                    p.getFileName().toString()))) {
                for (Path p : s) {
                    Files.deleteIfExists(p);
                    leaseWrittenNanos.remove(p);
                }
            }
            recountLeases(node);
        }
    }

    private static final Pattern LACK_LEASE_SUFFIX = Pattern.compile(
            "-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\\.lease");

    /** Whether {@code name} is a lease file of {@code sessionId}: SESSION-UUID.lease or SESSION-commit.lease. */
    static boolean isLeaseOf(String sessionId, String name) {
        if (!name.startsWith(sessionId)) {
            return false;
        }
        String rest = name.substring(sessionId.length());
        return rest.equals(COMMIT_LEASE_SUFFIX) || LACK_LEASE_SUFFIX.matcher(rest).matches();
    }

    /** Recounts a node's lease bytes; the caller holds the node's lease lock. */
    private void recountLeases(String node) throws IOException {
        Path dir = layout.leases().resolve(node);
        LeaseUse use = Files.isDirectory(dir) ? countLeases(dir, "") : new LeaseUse(0, 0);
        leaseBytes.computeIfAbsent(node, n -> new AtomicLong()).set(use.bytes());
        leaseFiles.put(node, use.files());
        leasesCountedAt.put(node, System.nanoTime());
    }

    /**
     * Refuses when {@code bytes} more would take the node past its quota, counting everything it has
     * made the repository store: uploaded chunks and published indexes (persisted), and its leases and
     * indexes being committed (while they exist).
     */
    private void requireQuota(String node, long bytes, String what) throws RepositoryException {
        long stored = usage(node).get();
        long leases = leaseBytes.getOrDefault(node, new AtomicLong()).get();
        long pending = committing.getOrDefault(node, new AtomicLong()).get();
        long total = stored + leases + pending;
        if (total + bytes > limits.maxNodeBytes() || total + bytes < 0) {
            throw new RepositoryException(Reason.QUOTA_EXCEEDED, "node " + node + " uses " + total + " bytes of its "
                    + "quota of " + limits.maxNodeBytes() + " (chunks and indexes " + stored + ", leases " + leases
                    + ", commits in progress " + pending + "); " + what + " (" + bytes + " bytes) does not fit. "
                    + "Delete old restore points or raise the node quota (--node-quota-bytes)");
        }
    }

    private void requireFree(long bytes) throws IOException {
        long free = Files.getFileStore(layout.incoming()).getUsableSpace();
        if (free - bytes < limits.minFreeBytes()) {
            throw new RepositoryException(Reason.QUOTA_EXCEEDED, "the repository filesystem has " + free
                    + " bytes free and keeps a reserve of " + limits.minFreeBytes() + " (--min-free-bytes); add space "
                    + "or prune");
        }
    }

    /** Bytes a node is allowed to stage in a temp file while it lasts (an index being committed). */
    public final class Reservation implements AutoCloseable {
        private final AtomicLong counter;
        private final long bytes;
        private boolean closed;

        private Reservation(AtomicLong counter, long bytes) {
            this.counter = counter;
            this.bytes = bytes;
        }

        @Override
        public void close() {
            if (!closed) {
                closed = true;
                counter.addAndGet(-bytes);
            }
        }
    }

    /**
     * Reserves room for an index of {@code bytes} that {@code node} is about to stream into
     * {@code incoming/tmp}: counted against its quota and the free-space reserve until closed.
     */
    public Reservation reserveCommit(String node, long bytes) throws IOException {
        Names.requireNode(node);
        long cost = onDisk(bytes);
        AtomicLong counter = committing.computeIfAbsent(node, n -> new AtomicLong());
        synchronized (counter) {
            requireQuota(node, cost, "an index of " + bytes + " bytes");
            requireFree(cost);
            counter.addAndGet(cost);
        }
        return new Reservation(counter, cost);
    }

    @Override
    public boolean putChunk(String node, ChunkId id, byte[] stored, int length) throws IOException {
        Names.requireNode(node);
        if (id.isZero()) {
            throw new RepositoryException(Reason.INVALID_REQUEST, "the all-zero chunk id is never stored");
        }
        try {
            ChunkHeader.verifyStored(id, stored, length);
        } catch (FormatException e) {
            throw new RepositoryException(Reason.DAMAGED, "chunk " + id + " was refused: " + e.getMessage()
                    + "; the client must re-encode it", e);
        }
        if (hasChunk(id)) {
            presence.add(id);
            return false;
        }
        // Reserve the quota before writing: uploads of one node run in parallel, and a check followed
        // by a later add would let them all pass together.
        AtomicLong used = usage(node);
        long reserved = used.addAndGet(length);
        long transientBytes = leaseBytes.getOrDefault(node, new AtomicLong()).get()
                + committing.getOrDefault(node, new AtomicLong()).get();
        if (reserved + transientBytes > limits.maxNodeBytes()) {
            used.addAndGet(-length);
            throw new RepositoryException(Reason.QUOTA_EXCEEDED, "node " + node + " has uploaded "
                    + (reserved - length) + " bytes of its quota of " + limits.maxNodeBytes() + " and holds "
                    + transientBytes + " in leases and commits in progress; a chunk of " + length + " bytes does not "
                    + "fit. Delete old restore points or raise the node quota (--node-quota-bytes)");
        }
        boolean created = false;
        try {
            requireFree(length);
            // The chunk's data is fsynced before it gets its name; the name itself is made durable by
            // the one directory fsync of the commit that needs it (a crash before that only loses
            // uploads the next lack check asks for again).
            created = DurableFiles.createNew(layout.incomingChunk(id), layout.incomingTmp(),
                    out -> out.write(stored, 0, length), false);
        } finally {
            if (!created) {
                used.addAndGet(-length);
            }
        }
        presence.add(id);
        if (created) {
            createdChunkBytes.addAndGet(length);
            persistUsage(node, used);
        }
        return created;
    }

    /** Writes the node's usage; serialised per node so a slower writer cannot store an older total. */
    private void persistUsage(String node, AtomicLong used) throws IOException {
        synchronized (used) {
            // not named after the node: a node name may have 253 characters, and with a suffix that
            // passes the 255-byte limit of a file name
            Path tmp = layout.incomingTmp().resolve("usage." + UUID.randomUUID() + ".tmp");
            Files.writeString(tmp, Long.toString(used.get()));
            Files.move(tmp, layout.usage().resolve(node), StandardCopyOption.ATOMIC_MOVE,
                    StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /**
     * What the store currently counts against a node's quota, from its in-memory counters (for tests
     * and diagnostics): when nothing runs, leases must equal the lease files on disk and commits in
     * progress must be 0, else a node's quota shrinks for good.
     */
    public NodeUsage nodeUsage(String node) {
        Names.requireNode(node);
        return new NodeUsage(usage(node).get(), leaseBytes.getOrDefault(node, new AtomicLong()).get(),
                leaseFiles.getOrDefault(node, 0), committing.getOrDefault(node, new AtomicLong()).get());
    }

    /** A node's quota counters: stored (chunks and indexes, persisted), leases and staged commits. */
    public record NodeUsage(long storedBytes, long leaseBytes, int leaseFiles, long committingBytes) {
    }

    private AtomicLong usage(String node) {
        return usage.computeIfAbsent(node, n -> {
            try {
                return new AtomicLong(Long.parseLong(Files.readString(layout.usage().resolve(n)).trim()));
            } catch (IOException | NumberFormatException e) {
                return new AtomicLong();
            }
        });
    }

    @Override
    public void commit(RestorePointIndex index, String sessionId) throws IOException {
        Path tmp = layout.incomingTmp().resolve(index.pointId() + "." + UUID.randomUUID() + ".idx.tmp");
        try {
            try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(tmp,
                    java.nio.file.StandardOpenOption.CREATE_NEW, java.nio.file.StandardOpenOption.WRITE)) {
                java.io.OutputStream out = new java.io.BufferedOutputStream(java.nio.channels.Channels.newOutputStream(ch),
                        1 << 16);
                IndexCodec.write(index, out);
                out.flush();
                ch.force(true);
            }
            commitPrepared(tmp, index, sessionId);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /**
     * Commits an index already written and fsynced to {@code tmp} (in {@code incoming/tmp}) and parsed
     * into {@code index}; the transport streams index bytes into such a file. The caller removes tmp.
     */
    public void commitPrepared(Path tmp, RestorePointIndex index, String sessionId) throws IOException {
        Names.requirePoint(sessionId);
        String node = index.node();
        Path sealed = layout.storePoint(node, index.pointId());
        Path incoming = layout.incomingPoint(node, index.pointId());
        for (Path existing : List.of(sealed, incoming)) {
            if (Files.exists(existing)) {
                if (Files.mismatch(existing, tmp) == -1) {
                    releaseLeases(node, sessionId);
                    return;
                }
                throw new RepositoryException(Reason.ALREADY_EXISTS, "restore point " + node + "/" + index.pointId()
                        + " exists with different content; restore points are never replaced, choose a new id");
            }
        }
        if (countPoints(node) >= limits.maxPointsPerNode()) {
            throw new RepositoryException(Reason.QUOTA_EXCEEDED, "node " + node + " has " + limits.maxPointsPerNode()
                    + " restore points, its limit; prune old ones first");
        }
        long indexBytes = onDisk(Files.size(tmp));
        requireQuota(node, indexBytes, "restore point " + index.pointId());
        List<ChunkId> referenced = index.chunks().stream().filter(id -> !id.isZero()).distinct().toList();
        // Refuse a commit that lacks chunks before leasing anything: a commit lease is then written only
        // for a point about to be published, so commits cannot be used to hold chunks from GC.
        requireChunks(index, referenced);
        // Lease every referenced chunk before checking again that it exists, so GC cannot remove one
        // between the check and the guard sealing this point.
        String leaseName = sessionId + COMMIT_LEASE_SUFFIX;
        writeLease(node, sessionId, referenced, leaseName, false);
        try {
            requireChunks(index, referenced);
            DurableFiles.fsyncDirectory(layout.incomingChunks()); // names of the chunks uploaded for this point
            Files.createDirectories(incoming.getParent());
            if (!DurableFiles.publish(tmp, incoming)) {
                throw new RepositoryException(Reason.ALREADY_EXISTS, "restore point " + node + "/" + index.pointId()
                        + " was committed concurrently");
            }
            AtomicLong used = usage(node);
            used.addAndGet(indexBytes);
            persistUsage(node, used);
            releaseLeases(node, sessionId);
        } finally {
            Path lease = layout.leases().resolve(node).resolve(leaseName);
            synchronized (leaseLocks.computeIfAbsent(node, n -> new Object())) {
                leaseWrittenNanos.remove(lease);
                if (Files.deleteIfExists(lease)) {
                    recountLeases(node);
                }
            }
        }
    }

    private void requireChunks(RestorePointIndex index, List<ChunkId> referenced) throws RepositoryException {
        List<ChunkId> missing = referenced.stream().filter(id -> !hasChunk(id)).toList();
        if (!missing.isEmpty()) {
            throw new RepositoryException(Reason.MISSING_CHUNKS, "restore point " + index.pointId() + " refers to "
                    + missing.size() + " chunks the repository lacks (first: " + missing.get(0)
                    + "); upload them and commit again");
        }
    }

    private int countPoints(String node) throws IOException {
        int n = 0;
        for (Path dir : List.of(layout.storePoints().resolve(node), layout.incomingPoints().resolve(node))) {
            if (Files.isDirectory(dir)) {
                try (Stream<Path> s = Files.list(dir)) {
                    n += (int) s.filter(p -> p.toString().endsWith(".idx")).count();
                }
            }
        }
        return n;
    }

    @Override
    public List<PointSummary> listPoints(Optional<String> node) throws IOException {
        node.ifPresent(Names::requireNode);
        Map<String, PointSummary> result = new LinkedHashMap<>();
        long trustedNow = trustedNowMillis();
        for (boolean sealed : new boolean[] {true, false}) {
            Path base = sealed ? layout.storePoints() : layout.incomingPoints();
            if (!Files.isDirectory(base)) {
                continue;
            }
            List<Path> nodeDirs = new ArrayList<>();
            if (node.isPresent()) {
                nodeDirs.add(base.resolve(node.get()));
            } else {
                try (Stream<Path> s = Files.list(base)) {
                    s.filter(Files::isDirectory).forEach(nodeDirs::add);
                }
            }
            for (Path dir : nodeDirs) {
                if (!Files.isDirectory(dir)) {
                    continue;
                }
                try (Stream<Path> s = Files.list(dir)) {
                    for (Path p : (Iterable<Path>) s.filter(x -> x.toString().endsWith(".idx"))::iterator) {
                        String name = p.getFileName().toString();
                        // the file name is node and point id: the index was published (and sealed) under them
                        String key = dir.getFileName() + "/" + name.substring(0, name.length() - 4);
                        if (result.containsKey(key)) {
                            continue;
                        }
                        PointSummary known = summaries.get(key);
                        if (known == null) {
                            RestorePointIndex idx;
                            try {
                                idx = readIndexFile(p);
                            } catch (NoSuchFileException e) {
                                continue; // the guard moved it meanwhile; it shows up on the sealed side next time
                            } catch (FormatException e) {
                                throw new RepositoryException(Reason.DAMAGED, "restore point " + key + " is damaged ("
                                        + e.getMessage() + "), so the listing cannot describe it: run `verify` on it, "
                                        + "restore from another point, and let retention delete it", e);
                            }
                            known = new PointSummary(new PointRef(idx.node(), idx.pointId()), idx.device(),
                                    idx.chunkSizeBytes(), idx.changeId(), idx.parentPointId(),
                                    Instant.ofEpochMilli(idx.startedAtMillis()),
                                    Instant.ofEpochMilli(idx.finishedAtMillis()), idx.stats(), false, Optional.empty());
                            summaries.put(key, known);
                        }
                        Optional<Instant> until = sealed ? LockAttributes.lockedUntil(p).map(Instant::ofEpochMilli)
                                : Optional.empty();
                        result.put(key, known.withSeal(sealed, until.filter(u -> u.toEpochMilli() > trustedNow)));
                    }
                }
            }
        }
        // forget points that are gone (deleted by the guard), so the cache stays as large as the listing
        String prefix = node.map(n -> n + "/").orElse("");
        summaries.keySet().removeIf(k -> k.startsWith(prefix) && !result.containsKey(k));
        List<PointSummary> list = new ArrayList<>(result.values());
        list.sort(Comparator.comparing((PointSummary p) -> p.ref().node()).thenComparing(PointSummary::finishedAt));
        return list;
    }

    private static RestorePointIndex readIndexFile(Path p) throws IOException {
        try (InputStream in = new BufferedInputStream(Files.newInputStream(p), 1 << 16)) {
            return IndexCodec.read(in);
        }
    }

    /** The sealed or incoming index file of a point. */
    public Optional<Path> pointFile(PointRef point) {
        Path sealed = layout.storePoint(point.node(), point.pointId());
        if (Files.exists(sealed)) {
            return Optional.of(sealed);
        }
        Path incoming = layout.incomingPoint(point.node(), point.pointId());
        return Files.exists(incoming) ? Optional.of(incoming) : Optional.empty();
    }

    @Override
    public RestorePointIndex readPoint(PointRef point) throws IOException {
        for (int attempt = 0; attempt < 2; attempt++) {
            Optional<Path> file = pointFile(point);
            if (file.isEmpty()) {
                break;
            }
            try {
                return readIndexFile(file.get());
            } catch (NoSuchFileException e) {
                // moved by the guard between lookup and open: look again
            } catch (FormatException e) {
                throw new RepositoryException(Reason.DAMAGED, "restore point " + point + " is damaged: " + e.getMessage()
                        + "; it cannot be restored", e);
            }
        }
        throw new RepositoryException(Reason.NOT_FOUND, "restore point " + point + " does not exist");
    }

    /** The stored bytes of a chunk after checking them against their header. */
    public byte[] readChunk(ChunkId id) throws IOException {
        for (int attempt = 0; attempt < 2; attempt++) {
            Optional<Path> file = chunkFile(id);
            if (file.isEmpty()) {
                break;
            }
            byte[] data;
            try {
                data = Files.readAllBytes(file.get());
            } catch (NoSuchFileException e) {
                continue;
            }
            try {
                ChunkHeader.verifyStored(id, data, data.length);
            } catch (FormatException e) {
                throw new RepositoryException(Reason.DAMAGED, e.getMessage(), e);
            }
            return data;
        }
        throw new RepositoryException(Reason.DAMAGED, "chunk " + id + " is missing from the repository");
    }

    @Override
    public void readChunks(PointRef point, int from, int count, ChunkConsumer consumer) throws IOException {
        RestorePointIndex idx = readPoint(point);
        List<ChunkId> ids = idx.chunks();
        if (from < 0 || count < 0 || from > ids.size() || count > ids.size() - from) {
            throw new RepositoryException(Reason.INVALID_REQUEST, "chunks " + from + ".." + (from + count) + " are "
                    + "outside restore point " + point + " (" + ids.size() + " chunks)");
        }
        for (int i = from; i < from + count; i++) {
            ChunkId id = ids.get(i);
            if (id.isZero()) {
                continue;
            }
            byte[] data = readChunk(id);
            consumer.accept(i, id, data, data.length);
        }
    }

    /** The guard's trusted time as last published, or the system clock when no guard has run. */
    public long trustedNowMillis() throws IOException {
        return guardStatus().map(GuardStatus::trustedNowMillis).orElse(System.currentTimeMillis());
    }

    /** The guard's published status; every read also shows it to the witness of its pace. */
    private Optional<GuardStatus> guardStatus() throws IOException {
        Optional<GuardStatus> status = GuardStatus.read(layout.guardStatus());
        guardClock.observe(layout.guardStatus(), status);
        return status;
    }

    @Override
    public Instant requestDelete(PointRef point) throws IOException {
        Path sealed = layout.storePoint(point.node(), point.pointId());
        if (!Files.exists(sealed)) {
            if (Files.exists(layout.incomingPoint(point.node(), point.pointId()))) {
                throw new RepositoryException(Reason.LOCKED, "restore point " + point + " has not been sealed by the "
                        + "guard yet; it will be immutable for the lock period once sealed");
            }
            throw new RepositoryException(Reason.NOT_FOUND, "restore point " + point + " does not exist");
        }
        Optional<Long> until = LockAttributes.lockedUntil(sealed);
        Optional<GuardStatus> guard = guardStatus();
        long now = guard.map(GuardStatus::trustedNowMillis).orElse(System.currentTimeMillis());
        if (until.isPresent() && until.get() > now) {
            throw new RepositoryException(Reason.LOCKED, "restore point " + point + " is immutable until "
                    + Instant.ofEpochMilli(until.get()) + " (by the guard's clock); it can be deleted after that");
        }
        guardClock.checkDeletion(layout.guardStatus(), guard, point.toString());
        // Named by a digest of the point, not the names themselves: a node name (253) and a point id
        // (128) together pass the 255-byte limit of a file name. The guard reads the body; the name
        // only makes a repeated request for one point the same file.
        String name = "delete." + HexFormat.of().formatHex(sha256(point.node() + "\n" + point.pointId()), 0, 16)
                + ".req";
        byte[] body = (point.node() + "\n" + point.pointId() + "\n").getBytes(StandardCharsets.UTF_8);
        DurableFiles.createNew(layout.requests().resolve(name), layout.incomingTmp(), body, 0, body.length);
        return Instant.now();
    }

    private static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JVM lacks SHA-256", e);
        }
    }

    @Override
    public VerifyReport verify(List<PointRef> points) throws IOException {
        Map<ChunkId, String> problems = new LinkedHashMap<>();
        Map<ChunkId, List<PointRef>> users = new LinkedHashMap<>();
        Set<ChunkId> good = new HashSet<>();
        List<PointRef> broken = new ArrayList<>();
        long checked = 0;
        for (PointRef ref : points) {
            RestorePointIndex idx;
            try {
                idx = readPoint(ref);
            } catch (RepositoryException e) {
                broken.add(ref);
                continue;
            }
            boolean ok = true;
            for (ChunkId id : idx.chunks()) {
                if (id.isZero() || good.contains(id)) {
                    continue;
                }
                if (!problems.containsKey(id)) {
                    checked++;
                    try {
                        readChunk(id);
                        good.add(id);
                        continue;
                    } catch (RepositoryException e) {
                        problems.put(id, e.getMessage());
                    }
                }
                List<PointRef> u = users.computeIfAbsent(id, k -> new ArrayList<>());
                if (!u.contains(ref)) {
                    u.add(ref);
                }
                ok = false;
            }
            if (!ok) {
                broken.add(ref);
            }
        }
        List<VerifyReport.DamagedChunk> damaged = new ArrayList<>();
        problems.forEach((id, why) -> damaged.add(new VerifyReport.DamagedChunk(id, why, users.get(id))));
        return new VerifyReport(points.size(), checked, damaged, broken);
    }

    @Override
    public RepositoryStats stats() throws IOException {
        if (!chunksScanned || System.nanoTime() - scannedAtNanos > CHUNK_RESCAN_NANOS) {
            rescanChunks();
        }
        long stored;
        synchronized (chunkScan) {
            stored = scannedChunkBytes + createdChunkBytes.get() - createdAtScan;
        }
        Set<String> all = new HashSet<>();
        Set<String> sealed = new HashSet<>();
        long logical = 0;
        for (boolean isSealed : new boolean[] {true, false}) {
            Path base = isSealed ? layout.storePoints() : layout.incomingPoints();
            if (!Files.isDirectory(base)) {
                continue;
            }
            try (DirectoryStream<Path> nodes = Files.newDirectoryStream(base, Files::isDirectory)) {
                for (Path dir : nodes) {
                    try (DirectoryStream<Path> points = Files.newDirectoryStream(dir, "*.idx")) {
                        for (Path p : points) {
                            String id = p.getFileName().toString();
                            String key = dir.getFileName() + "/" + id.substring(0, id.length() - 4);
                            if (isSealed) {
                                sealed.add(key);
                            }
                            if (all.add(key)) {
                                logical += logicalBytes(key, p);
                            }
                        }
                    } catch (NoSuchFileException e) {
                        // a node directory removed meanwhile
                    }
                }
            }
        }
        logicalBytes.keySet().retainAll(all);
        FileStore fs = Files.getFileStore(layout.root());
        long capacity = fs.getTotalSpace();
        Optional<GuardStatus> guard = guardStatus();
        return new RepositoryStats(capacity, capacity - fs.getUnallocatedSpace(), fs.getUsableSpace(), stored, logical,
                all.size(), sealed.size(), guard.map(g -> Instant.ofEpochMilli(g.trustedNowMillis())),
                guard.map(GuardStatus::lockDays).orElse(0),
                guard.map(GuardStatus::clockWarning).filter(w -> !w.isBlank()),
                guard.map(GuardStatus::frozenReason).filter(w -> !w.isBlank()));
    }

    /** A point's logical bytes, read from its index once and then cached. */
    private long logicalBytes(String key, Path file) throws IOException {
        Long cached = logicalBytes.get(key);
        if (cached != null) {
            return cached;
        }
        long bytes;
        try {
            bytes = logicalBytes(readIndexFile(file));
        } catch (NoSuchFileException e) {
            // the guard moved it from incoming to the store meanwhile
            String[] ref = key.split("/", 2);
            try {
                bytes = logicalBytes(readPoint(new PointRef(ref[0], ref[1])));
            } catch (RepositoryException gone) {
                return 0; // deleted or damaged: verify reports it, and STATS stays cheap
            }
        } catch (FormatException e) {
            bytes = 0; // damaged: verify reports it; immutable, so not worth rereading
        }
        logicalBytes.put(key, bytes);
        return bytes;
    }

    /** The uncompressed bytes of a point's non-zero chunks (the last chunk may be short). */
    static long logicalBytes(RestorePointIndex idx) {
        List<ChunkId> ids = idx.chunks();
        long size = idx.device().sizeBytes();
        long chunk = idx.chunkSizeBytes();
        long bytes = 0;
        for (int i = 0; i < ids.size(); i++) {
            if (!ids.get(i).isZero()) {
                bytes += Math.min(chunk, size - i * chunk);
            }
        }
        return bytes;
    }

    @Override
    public void close() {
    }

    /** Reads a lease file's ids (used by tests and the guard's reader). */
    public static List<ChunkId> readLease(Path file) throws IOException {
        byte[] all = Files.readAllBytes(file);
        List<ChunkId> ids = new ArrayList<>(all.length / ChunkId.LENGTH);
        for (int i = 0; i + ChunkId.LENGTH <= all.length; i += ChunkId.LENGTH) {
            ids.add(ChunkId.of(all, i));
        }
        return ids;
    }

}
