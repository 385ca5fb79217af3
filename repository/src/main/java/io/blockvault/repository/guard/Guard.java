package io.blockvault.repository.guard;

import io.blockvault.repository.format.ChunkHeader;
import io.blockvault.repository.format.ChunkId;
import io.blockvault.repository.format.FormatException;
import io.blockvault.repository.format.IndexCodec;
import io.blockvault.repository.format.Names;
import io.blockvault.repository.format.RestorePointIndex;
import io.blockvault.repository.linux.Linux;
import io.blockvault.repository.linux.SafeDirectory;
import io.blockvault.repository.store.DurableFiles;
import io.blockvault.repository.store.GuardStatus;
import io.blockvault.repository.store.LockAttributes;
import io.blockvault.repository.store.RepositoryLayout;
import io.blockvault.repository.store.RepositoryStore;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * The immutability guard. Each cycle it clones every sealed file of the incoming area into the
 * store (FICLONE, or a copy where reflink is missing), re-checks the clone, records its lock expiry
 * (trusted clock + lockDays) in an xattr, sets FS_IMMUTABLE_FL and removes the original; so it never
 * locks an inode the transport held open. Then it applies deletion requests its own rules allow
 * (lock expired by the trusted clock) and collects chunks no restore point, lease or lock protects;
 * while its clock is frozen it deletes and collects nothing. It takes no orders: requests are files
 * it judges, and the lock period is its own configuration.
 */
public final class Guard {

    private static final Set<PosixFilePermission> READ_ONLY = PosixFilePermissions.fromString("r--r--r--");

    private final RepositoryLayout layout;
    private final Linux linux;
    private final TrustedClock clock;
    private final System.Logger log;
    private final Map<ChunkId, Long> gcCandidates = new HashMap<>();
    private long lastGcMillis = Long.MIN_VALUE;
    /** When this guard first saw each lease file (path and mtime), by the trusted clock. */
    private final Map<String, Long> leaseFirstSeen = new HashMap<>();
    private final Set<String> warnedPoints = new HashSet<>();

    public Guard(RepositoryLayout layout, Linux linux, TrustedClock clock, System.Logger log) {
        this.layout = layout;
        this.linux = linux;
        this.clock = clock;
        this.log = log;
    }

    private Path storeTmp() {
        return layout.store().resolve("tmp");
    }

    /**
     * Creates the store (root-owned, not writable by others), removes the guard's own temp files, and
     * locks any sealed file a crash left unlocked.
     */
    public void prepare() throws IOException {
        protectRoot();
        for (Path p : List.of(layout.store(), layout.storeChunks(), layout.storePoints(), storeTmp(),
                layout.guardState())) {
            Files.createDirectories(p);
        }
        Files.setPosixFilePermissions(layout.guardState(), PosixFilePermissions.fromString("rwx------"));
        Files.setPosixFilePermissions(storeTmp(), PosixFilePermissions.fromString("rwx------"));
        for (Path p : List.of(layout.store(), layout.storeChunks(), layout.storePoints())) {
            Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
        for (int i = 0; i < 256; i++) {
            Path d = layout.storeChunks().resolve(String.format("%02x", i));
            if (!Files.isDirectory(d)) {
                Files.createDirectory(d);
                Files.setPosixFilePermissions(d, PosixFilePermissions.fromString("rwxr-xr-x"));
            }
        }
        try (Stream<Path> s = Files.list(storeTmp())) {
            for (Path p : (Iterable<Path>) s::iterator) {
                Files.deleteIfExists(p);
            }
        }
        int relocked = 0;
        try (Stream<Path> s = Files.walk(layout.store())) {
            for (Path p : (Iterable<Path>) s.filter(Files::isRegularFile)::iterator) {
                if (p.startsWith(storeTmp()) || p.equals(layout.guardStatus())) {
                    continue;
                }
                if (!linux.isImmutable(p)) {
                    Optional<Long> until = LockAttributes.lockedUntil(p);
                    if (until.isEmpty() || until.get() > clock.nowMillis()) {
                        if (until.isEmpty()) {
                            LockAttributes.setLockedUntil(p, clock.nowMillis());
                        }
                        linux.setImmutable(p, true);
                        relocked++;
                    }
                }
            }
        }
        if (relocked > 0) {
            log.log(System.Logger.Level.WARNING, "locked " + relocked + " sealed files a crash had left unlocked");
        }
    }

    /**
     * The repository root may be writable by the transport: in a pod, fsGroup makes the volume root
     * group-writable for the transport's group. Made sticky, it keeps the transport from renaming or
     * replacing store/ and guard/, which belong to root (the guard owns the root, so it needs no
     * FOWNER for this). A store/ or guard/ that does not belong to root was made by someone else and
     * is refused rather than trusted.
     */
    private void protectRoot() throws IOException {
        Path root = layout.root();
        int uid = (Integer) Files.getAttribute(root, "unix:uid", LinkOption.NOFOLLOW_LINKS);
        int mode = (Integer) Files.getAttribute(root, "unix:mode", LinkOption.NOFOLLOW_LINKS);
        if ((mode & 0022) != 0 && (mode & 01000) == 0) {
            if (uid != 0) {
                throw new IOException("the repository root " + root + " is writable by others than its owner (uid " + uid
                        + "), so the transport could replace store/; make it belong to root (chown root " + root
                        + ") so the guard can make it sticky, or remove group and other write (chmod go-w " + root + ")");
            }
            linux.chmod(root, (mode & 07777) | 01000);
            log.log(System.Logger.Level.INFO, "made the repository root " + root + " sticky: it is writable by group or "
                    + "others, who must not rename store/ or guard/");
        }
        for (Path p : List.of(layout.store(), layout.guardState())) {
            if (Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
                int owner = (Integer) Files.getAttribute(p, "unix:uid", LinkOption.NOFOLLOW_LINKS);
                if (owner != 0 || !Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                    throw new IOException(p + " is not a directory of root's (uid " + owner + "): the guard did not make "
                            + "it and will not trust it; move it away and start the guard again");
                }
            }
        }
    }

    public CycleReport cycle(GuardConfig config) throws IOException {
        clock.tick(config);
        boolean[] reflinked = {false};
        int chunks = ingestChunks(config, reflinked);
        int points = ingestPoints(config, reflinked);
        int[] deletes = applyDeleteRequests();
        long[] gc = {0, 0};
        long now = clock.nowMillis();
        if (clock.frozen().isEmpty()
                && (lastGcMillis == Long.MIN_VALUE || now - lastGcMillis >= config.gcIntervalSeconds() * 1000)) {
            gc = collectGarbage(config);
            lastGcMillis = now;
        }
        publishStatus(config);
        return new CycleReport(chunks, points, deletes[0], deletes[1], (int) gc[0], gc[1], reflinked[0]);
    }

    private int ingestChunks(GuardConfig config, boolean[] reflinked) throws IOException {
        if (!Files.isDirectory(layout.incomingChunks())) {
            return 0;
        }
        int sealed = 0;
        try (SafeDirectory dir = SafeDirectory.open(linux, layout.incomingChunks())) {
            for (String name : dir.names()) {
                ChunkId id;
                try {
                    id = ChunkId.parse(name);
                } catch (IllegalArgumentException e) {
                    log.log(System.Logger.Level.WARNING, "removing " + dir.path().resolve(name)
                            + ": not a chunk file name");
                    dir.unlink(name);
                    continue;
                }
                SafeDirectory.OpenFile src;
                try {
                    src = dir.openFile(name);
                } catch (IOException e) {
                    log.log(System.Logger.Level.WARNING, "removing " + dir.path().resolve(name) + ": " + e.getMessage());
                    dir.unlink(name);
                    continue;
                }
                try (src) {
                    long until = clock.nowMillis() + config.lockDays() * 86_400_000L;
                    if (seal(dir, name, src, layout.storeChunk(id), until,
                            bytes -> ChunkHeader.verifyStored(id, bytes, bytes.length), reflinked)) {
                        sealed++;
                    }
                }
            }
        }
        return sealed;
    }

    private int ingestPoints(GuardConfig config, boolean[] reflinked) throws IOException {
        if (!Files.isDirectory(layout.incomingPoints())) {
            return 0;
        }
        int sealed = 0;
        try (SafeDirectory points = SafeDirectory.open(linux, layout.incomingPoints())) {
            for (String node : points.names()) {
                try {
                    Names.requireNode(node);
                } catch (IllegalArgumentException e) {
                    log.log(System.Logger.Level.WARNING, "ignoring " + points.path().resolve(node) + ": "
                            + e.getMessage());
                    continue;
                }
                SafeDirectory nodeDir;
                try {
                    nodeDir = points.sub(node);
                } catch (IOException e) {
                    log.log(System.Logger.Level.WARNING, "ignoring " + points.path().resolve(node) + ": "
                            + e.getMessage());
                    continue;
                }
                try (nodeDir) {
                    for (String name : nodeDir.names()) {
                        if (sealPoint(config, node, nodeDir, name, reflinked)) {
                            sealed++;
                        }
                    }
                }
            }
        }
        return sealed;
    }

    private boolean sealPoint(GuardConfig config, String node, SafeDirectory dir, String name, boolean[] reflinked)
            throws IOException {
        if (!name.endsWith(".idx")) {
            return false;
        }
        SafeDirectory.OpenFile src;
        try {
            src = dir.openFile(name);
        } catch (IOException e) {
            log.log(System.Logger.Level.WARNING, "removing " + dir.path().resolve(name) + ": " + e.getMessage());
            dir.unlink(name);
            return false;
        }
        try (src) {
            RestorePointIndex idx;
            try {
                idx = IndexCodec.read(new ByteArrayInputStream(src.readAll()));
            } catch (FormatException e) {
                log.log(System.Logger.Level.ERROR, "removing damaged incoming restore point " + dir.path().resolve(name)
                        + ": " + e.getMessage());
                dir.unlink(name);
                return false;
            }
            if (!idx.node().equals(node) || !name.equals(idx.pointId() + ".idx")) {
                log.log(System.Logger.Level.ERROR, "removing " + dir.path().resolve(name) + ": it names " + idx.node()
                        + "/" + idx.pointId() + ", not its own path");
                dir.unlink(name);
                return false;
            }
            for (ChunkId id : idx.chunks()) {
                if (!id.isZero() && !Files.exists(layout.storeChunk(id))) {
                    if (warnedPoints.add(node + "/" + idx.pointId())) {
                        log.log(System.Logger.Level.WARNING, "restore point " + node + "/" + idx.pointId()
                                + " waits: chunk " + id + " is not in the store yet");
                    }
                    return false;
                }
            }
            Path target = layout.storePoint(node, idx.pointId());
            Files.createDirectories(target.getParent());
            long until = clock.nowMillis() + config.lockDays() * 86_400_000L;
            boolean sealed = seal(dir, name, src, target, until, bytes -> {
                RestorePointIndex copy = IndexCodec.read(new ByteArrayInputStream(bytes));
                if (!copy.equals(idx)) {
                    throw new FormatException("the clone differs from the index that was checked");
                }
            }, reflinked);
            if (sealed) {
                warnedPoints.remove(node + "/" + idx.pointId());
                log.log(System.Logger.Level.INFO, "sealed restore point " + node + "/" + idx.pointId()
                        + ", immutable until " + Instant.ofEpochMilli(until));
            }
            return sealed;
        }
    }

    /** Checks the bytes of a clone. */
    @FunctionalInterface
    private interface Check {
        void verify(byte[] bytes) throws IOException;
    }

    /**
     * Clones the open file {@code src} into a fresh inode, checks the clone, publishes it at
     * {@code target}, locks it, and removes {@code name} from the incoming directory. Returns true when
     * a new file was sealed.
     */
    private boolean seal(SafeDirectory dir, String name, SafeDirectory.OpenFile src, Path target, long lockedUntil,
            Check check, boolean[] reflinked) throws IOException {
        if (Files.exists(target)) {
            // already sealed (a duplicate upload, or a crash after publishing): the store copy wins
            try {
                check.verify(Files.readAllBytes(target));
            } catch (FormatException e) {
                log.log(System.Logger.Level.ERROR, "sealed file " + target + " is damaged (" + e.getMessage()
                        + "); verify will report it");
            }
            if (!linux.isImmutable(target)) {
                linux.setImmutable(target, true);
            }
            dir.unlink(name);
            return false;
        }
        Path tmp = storeTmp().resolve(target.getFileName() + "." + UUID.randomUUID());
        try {
            Files.createFile(tmp);
            int fd = linux.openWrite(tmp);
            boolean cloned;
            try {
                cloned = linux.reflink(fd, src.fd());
            } finally {
                linux.close(fd);
            }
            if (cloned) {
                reflinked[0] = true;
            } else {
                try (var in = Files.newInputStream(src.procPath());
                        var out = Files.newOutputStream(tmp, StandardOpenOption.TRUNCATE_EXISTING)) {
                    in.transferTo(out);
                }
            }
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                ch.force(true);
            }
            try {
                check.verify(Files.readAllBytes(tmp));
            } catch (FormatException e) {
                log.log(System.Logger.Level.ERROR, "refusing " + dir.path().resolve(name) + ": its clone does not "
                        + "verify (" + e.getMessage() + "); the incoming file was removed, the client will upload it "
                        + "again");
                dir.unlink(name);
                return false;
            }
            Files.setPosixFilePermissions(tmp, READ_ONLY);
            LockAttributes.setLockedUntil(tmp, lockedUntil);
            Files.setLastModifiedTime(tmp, FileTime.fromMillis(clock.nowMillis()));
            if (!DurableFiles.publish(tmp, target)) {
                dir.unlink(name);
                return false;
            }
            Files.delete(tmp); // before locking: the flag is on the inode, and tmp is another link to it
            linux.setImmutable(target, true);
        } finally {
            Files.deleteIfExists(tmp);
        }
        dir.unlink(name);
        return true;
    }

    /** Returns {deleted, refused}. */
    private int[] applyDeleteRequests() throws IOException {
        int[] r = {0, 0};
        if (!Files.isDirectory(layout.requests())) {
            return r;
        }
        try (SafeDirectory dir = SafeDirectory.open(linux, layout.requests())) {
            for (String req : dir.names()) {
                if (!req.endsWith(".req")) {
                    continue;
                }
                String[] lines;
                try (SafeDirectory.OpenFile f = dir.openFile(req)) {
                    byte[] content = f.readAll();
                    lines = new String(content, 0, Math.min(content.length, 4096), StandardCharsets.UTF_8).split("\n");
                } catch (IOException e) {
                    log.log(System.Logger.Level.WARNING, "removing deletion request " + req + ": " + e.getMessage());
                    dir.unlink(req);
                    continue;
                }
                dir.unlink(req);
                String node = lines.length > 0 ? lines[0].trim() : "";
                String point = lines.length > 1 ? lines[1].trim() : "";
                Path target;
                try {
                    target = layout.storePoint(node, point);
                } catch (IllegalArgumentException e) {
                    log.log(System.Logger.Level.WARNING, "ignoring deletion request " + req + ": " + e.getMessage());
                    continue;
                }
                if (!Files.exists(target)) {
                    log.log(System.Logger.Level.INFO, "deletion request for " + node + "/" + point
                            + ": no such sealed restore point");
                    continue;
                }
                Optional<TrustedClock.Freeze> frozen = clock.frozen();
                if (frozen.isPresent()) {
                    r[1]++;
                    log.log(System.Logger.Level.WARNING, "deletion of " + node + "/" + point + " refused: the trusted "
                            + "clock is frozen (" + frozen.get().reason() + ")");
                    continue;
                }
                Optional<Long> until = LockAttributes.lockedUntil(target);
                long now = clock.nowMillis();
                if (until.isEmpty() || until.get() > now) {
                    r[1]++;
                    log.log(System.Logger.Level.WARNING, "deletion of " + node + "/" + point + " refused: immutable until "
                            + until.map(Instant::ofEpochMilli).map(Object::toString).orElse("(unknown: kept)")
                            + " by the trusted clock (now " + Instant.ofEpochMilli(now) + ")");
                    continue;
                }
                linux.setImmutable(target, false);
                Files.delete(target);
                DurableFiles.fsyncDirectory(target.getParent());
                r[0]++;
                log.log(System.Logger.Level.INFO, "deleted restore point " + node + "/" + point + " (lock expired "
                        + Instant.ofEpochMilli(until.get()) + ")");
            }
        }
        return r;
    }

    /** Calls {@code each} with the bytes of every regular file one level below {@code dir}'s subdirectories. */
    private void readIncomingTree(Path dir, String suffix, FileBytes each) throws IOException {
        if (!Files.isDirectory(dir)) {
            return;
        }
        try (SafeDirectory top = SafeDirectory.open(linux, dir)) {
            for (String sub : top.names()) {
                SafeDirectory d;
                try {
                    d = top.sub(sub);
                } catch (IOException | IllegalArgumentException e) {
                    continue;
                }
                try (d) {
                    for (String name : d.names()) {
                        if (!name.endsWith(suffix)) {
                            continue;
                        }
                        try (SafeDirectory.OpenFile f = d.openFile(name)) {
                            each.accept(d.path().resolve(name), f);
                        } catch (NoSuchFileException e) {
                            // removed meanwhile
                        } catch (IOException e) {
                            if (e instanceof FormatException) {
                                throw e;
                            }
                            // vanished or not a regular file: not ours to read
                        }
                    }
                }
            }
        }
    }

    /** Receives one file of the incoming area. */
    @FunctionalInterface
    private interface FileBytes {
        void accept(Path path, SafeDirectory.OpenFile file) throws IOException;
    }

    /** Returns {chunks, bytes} removed. */
    private long[] collectGarbage(GuardConfig config) throws IOException {
        Set<ChunkId> keep = new HashSet<>();
        if (Files.isDirectory(layout.storePoints())) {
            try (Stream<Path> s = Files.walk(layout.storePoints())) {
                for (Path p : (Iterable<Path>) s.filter(x -> x.toString().endsWith(".idx"))::iterator) {
                    try {
                        keep.addAll(IndexCodec.read(new ByteArrayInputStream(Files.readAllBytes(p))).chunks());
                    } catch (FormatException e) {
                        log.log(System.Logger.Level.ERROR, "garbage collection skipped: sealed index " + p
                                + " is damaged (" + e.getMessage() + "), so the chunks it needs are unknown");
                        return new long[] {0, 0};
                    }
                }
            }
        }
        try {
            readIncomingTree(layout.incomingPoints(), ".idx", (p, f) ->
                    keep.addAll(IndexCodec.read(new ByteArrayInputStream(f.readAll())).chunks()));
        } catch (FormatException e) {
            log.log(System.Logger.Level.ERROR, "garbage collection skipped: an incoming index is damaged ("
                    + e.getMessage() + "), so the chunks it needs are unknown");
            return new long[] {0, 0};
        }
        long wallNow = System.currentTimeMillis();
        long trustedNow = clock.nowMillis();
        long ttlMillis = config.leaseTtlSeconds() * 1000;
        // A commit's lease lives only while that commit checks and publishes its point: honoured fully.
        // A lack check's lease is the word of whichever node asked, about any stored chunk, renewable
        // at will: it keeps a chunk only for one TTL after the chunk lost its last reference (below),
        // so no node can hold another node's unreferenced data from collection by asking again.
        // A lease counts while either clock calls it younger than the TTL: its mtime by the wall
        // clock, or the trusted time since this guard first saw it (a renewal is a new mtime). By the
        // wall clock alone, a clock set ahead would expire every lease at once and GC could take the
        // chunks a running backup was told exist (ClockAttackIT); a clock set back only keeps more.
        Set<ChunkId> leasedByLackChecks = new HashSet<>();
        Set<String> leasesSeen = new HashSet<>();
        readIncomingTree(layout.leases(), ".lease", (p, f) -> {
            long mtime = Files.getLastModifiedTime(f.procPath()).toMillis();
            String key = p + "@" + mtime;
            leasesSeen.add(key);
            long firstSeen = leaseFirstSeen.computeIfAbsent(key, k -> trustedNow);
            if (wallNow - mtime < ttlMillis || trustedNow - firstSeen < ttlMillis) {
                Set<ChunkId> into = p.getFileName().toString().endsWith(RepositoryStore.COMMIT_LEASE_SUFFIX) ? keep
                        : leasedByLackChecks;
                byte[] all = f.readAll();
                for (int i = 0; i + ChunkId.LENGTH <= all.length; i += ChunkId.LENGTH) {
                    into.add(ChunkId.of(all, i));
                }
            }
        });
        leaseFirstSeen.keySet().retainAll(leasesSeen);
        long now = trustedNow;
        long removed = 0;
        long bytes = 0;
        Set<ChunkId> seen = new HashSet<>();
        try (Stream<Path> s = Files.walk(layout.storeChunks(), 2)) {
            for (Path p : (Iterable<Path>) s.filter(Files::isRegularFile)::iterator) {
                ChunkId id;
                try {
                    id = ChunkId.parse(p.getFileName().toString());
                } catch (IllegalArgumentException e) {
                    continue;
                }
                seen.add(id);
                if (keep.contains(id)) {
                    gcCandidates.remove(id);
                    continue;
                }
                Optional<Long> until = LockAttributes.lockedUntil(p);
                if (until.isEmpty() || until.get() > now) {
                    continue;
                }
                Long marked = gcCandidates.putIfAbsent(id, now);
                if (leasedByLackChecks.contains(id) && (marked == null || now - marked < ttlMillis)) {
                    continue;
                }
                if (marked != null && now - marked >= config.gcGraceSeconds() * 1000) {
                    long size = Files.size(p);
                    linux.setImmutable(p, false);
                    Files.delete(p);
                    gcCandidates.remove(id);
                    removed++;
                    bytes += size;
                }
            }
        }
        gcCandidates.keySet().retainAll(seen);
        if (removed > 0) {
            log.log(System.Logger.Level.INFO, "garbage collection removed " + removed + " chunks (" + bytes + " bytes)");
        }
        return new long[] {removed, bytes};
    }

    private void publishStatus(GuardConfig config) throws IOException {
        GuardStatus st = new GuardStatus(clock.nowMillis(), System.currentTimeMillis(), config.lockDays(),
                clock.lastWarning(), clock.appliedAdvanceSeconds(),
                clock.frozen().map(f -> "since " + Instant.ofEpochMilli(f.sinceMillis()) + ": " + f.reason()).orElse(""));
        Path tmp = storeTmp().resolve("guard-status." + UUID.randomUUID());
        Files.writeString(tmp, st.toProperties(), StandardCharsets.ISO_8859_1);
        Files.setPosixFilePermissions(tmp, READ_ONLY);
        Files.move(tmp, layout.guardStatus(), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }
}
