package io.blockvault.repository.transport;

import io.blockvault.repository.client.PointRef;
import io.blockvault.repository.client.VerifyReport;
import io.blockvault.repository.format.ChunkId;
import io.blockvault.repository.format.Names;
import io.blockvault.repository.store.RepositoryLayout;
import io.blockvault.repository.store.RepositoryStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * What must hold on disk whatever a client sent, checked when no connection is open: only files of
 * the layout exist (FORMAT.md), no temp file outlives its request, the quota counters match the
 * bytes on disk, and every restore point verifies; committed points are byte for byte what was
 * committed. Each check returns its violations (empty: it holds).
 */
final class FuzzInvariants {

    private static final Pattern CHUNK = Pattern.compile("[0-9a-f]{64}");
    private static final Pattern LEASE = Pattern.compile("[A-Za-z0-9._-]+\\.lease");
    private static final Pattern REQUEST = Pattern.compile("delete\\.[A-Za-z0-9._-]+\\.req");
    private static final long BLOCK = 4096;

    private final RepositoryStore store;
    private final RepositoryLayout layout;

    FuzzInvariants(RepositoryStore store) {
        this.store = store;
        this.layout = store.layout();
    }

    /** Temp files belong to one request; with no connection open there must be none. */
    List<String> tempFiles() throws IOException {
        try (Stream<Path> s = Files.list(layout.incomingTmp())) {
            return s.map(p -> "temp file left behind: " + p.getFileName()).toList();
        }
    }

    /** Every path under the root is one the layout names; nothing is a symlink; store/ is untouched. */
    List<String> layoutViolations() throws IOException {
        List<String> bad = new ArrayList<>();
        try (Stream<Path> s = Files.walk(layout.root())) {
            for (Path p : (Iterable<Path>) s::iterator) {
                if (Files.isSymbolicLink(p)) {
                    bad.add("symbolic link " + layout.root().relativize(p));
                } else if (!allowed(layout.root().relativize(p))) {
                    bad.add("outside the layout: " + layout.root().relativize(p)
                            + (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS) ? "/" : ""));
                }
            }
        }
        return bad;
    }

    private boolean allowed(Path rel) {
        int n = rel.getNameCount();
        String first = rel.getName(0).toString();
        if (rel.toString().isEmpty()) {
            return true;
        }
        // no guard runs in the fuzzer: the transport must not create anything but incoming/
        if (!first.equals("incoming")) {
            return false;
        }
        Path abs = layout.root().resolve(rel);
        boolean dir = Files.isDirectory(abs, LinkOption.NOFOLLOW_LINKS);
        boolean file = Files.isRegularFile(abs, LinkOption.NOFOLLOW_LINKS);
        if (n == 1) {
            return dir;
        }
        String area = rel.getName(1).toString();
        if (n == 2) {
            return dir && Set.of("tmp", "chunks", "points", "leases", "requests", "usage").contains(area);
        }
        String name = rel.getName(2).toString();
        return switch (area) {
            case "tmp" -> n == 3 && file; // checked to be empty separately
            case "chunks" -> n == 3 && file && CHUNK.matcher(name).matches();
            case "points" -> n == 3 ? dir && validNode(name)
                    : n == 4 && file && rel.getName(3).toString().endsWith(".idx")
                            && validPoint(rel.getName(3).toString().replaceFirst("\\.idx$", ""));
            case "leases" -> n == 3 ? dir && validNode(name) : n == 4 && file && LEASE.matcher(rel.getName(3)
                    .toString()).matches();
            case "requests" -> n == 3 && file && REQUEST.matcher(name).matches();
            case "usage" -> n == 3 && file && validNode(name);
            default -> false;
        };
    }

    private static boolean validNode(String s) {
        try {
            Names.requireNode(s);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    private static boolean validPoint(String s) {
        try {
            Names.requirePoint(s);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /**
     * The quota counts exactly what is stored: the usage files add up to the chunk files' bytes plus
     * each index's blocks (the transport charges a chunk to the node that first stored it, so the sum
     * is exact and a node's own share is at least its indexes); in memory, a node's usage is what its
     * usage file says, its leases are its lease files, and no commit is in progress.
     */
    List<String> quotaViolations(List<String> nodes) throws IOException {
        List<String> bad = new ArrayList<>();
        long chunkBytes = 0;
        try (Stream<Path> s = Files.list(layout.incomingChunks())) {
            for (Path p : (Iterable<Path>) s::iterator) {
                chunkBytes += Files.size(p);
            }
        }
        long indexBytes = 0;
        long usageSum = 0;
        try (Stream<Path> s = Files.list(layout.usage())) {
            for (Path p : (Iterable<Path>) s::iterator) {
                usageSum += Long.parseLong(Files.readString(p).trim());
            }
        }
        Path points = layout.incomingPoints();
        try (Stream<Path> dirs = Files.list(points)) {
            for (Path dir : (Iterable<Path>) dirs::iterator) {
                if (!validNode(dir.getFileName().toString())) {
                    continue; // the layout oracle reports it
                }
                long own = 0;
                try (Stream<Path> s = Files.list(dir)) {
                    for (Path p : (Iterable<Path>) s::iterator) {
                        own += blocks(Files.size(p));
                    }
                }
                indexBytes += own;
                long charged = store.nodeUsage(dir.getFileName().toString()).storedBytes();
                if (charged < own) {
                    bad.add("node " + dir.getFileName() + " is charged " + charged + " bytes but its indexes alone take "
                            + own);
                }
            }
        }
        if (usageSum != chunkBytes + indexBytes) {
            bad.add("usage files add up to " + usageSum + " bytes, the repository holds " + chunkBytes
                    + " bytes of chunks and " + indexBytes + " of indexes (" + (chunkBytes + indexBytes) + ")");
        }
        for (String node : nodes) {
            RepositoryStore.NodeUsage use = store.nodeUsage(node);
            Path usageFile = layout.usage().resolve(node);
            long persisted = Files.exists(usageFile) ? Long.parseLong(Files.readString(usageFile).trim()) : 0;
            if (use.storedBytes() != persisted) {
                bad.add("node " + shortNode(node) + ": " + use.storedBytes() + " bytes in memory, " + persisted
                        + " in its usage file");
            }
            if (use.committingBytes() != 0) {
                bad.add("node " + shortNode(node) + " has " + use.committingBytes()
                        + " bytes reserved for commits while none runs");
            }
            long leaseBytes = 0;
            int leaseFiles = 0;
            Path leases = layout.leases().resolve(node);
            if (Files.isDirectory(leases)) {
                try (Stream<Path> s = Files.list(leases)) {
                    for (Path p : (Iterable<Path>) s::iterator) {
                        leaseBytes += blocks(Files.size(p));
                        leaseFiles++;
                    }
                }
            }
            if (use.leaseBytes() != leaseBytes || use.leaseFiles() != leaseFiles) {
                bad.add("node " + shortNode(node) + " is charged " + use.leaseBytes() + " bytes in " + use.leaseFiles()
                        + " lease files, it holds " + leaseBytes + " bytes in " + leaseFiles);
            }
        }
        return bad;
    }

    /**
     * Every restore point on disk verifies (its index parses, every chunk it names exists and matches
     * its header), and the points in {@code committed} are still exactly the bytes committed.
     */
    List<String> pointViolations(Map<PointRef, byte[]> committed) throws IOException {
        List<String> bad = new ArrayList<>();
        List<PointRef> all = new ArrayList<>();
        try (Stream<Path> dirs = Files.list(layout.incomingPoints())) {
            for (Path dir : (Iterable<Path>) dirs::iterator) {
                if (!validNode(dir.getFileName().toString())) {
                    continue; // the layout oracle reports it
                }
                try (Stream<Path> s = Files.list(dir)) {
                    for (Path p : (Iterable<Path>) s::iterator) {
                        String name = p.getFileName().toString();
                        if (!name.endsWith(".idx") || !validPoint(name.substring(0, name.length() - 4))) {
                            continue;
                        }
                        all.add(new PointRef(dir.getFileName().toString(), name.substring(0, name.length() - 4)));
                    }
                }
            }
        }
        VerifyReport report = store.verify(all);
        for (VerifyReport.DamagedChunk c : report.damaged()) {
            bad.add("chunk " + c.id() + " of " + c.points() + ": " + c.problem());
        }
        Set<PointRef> seen = new HashSet<>(all);
        for (PointRef p : report.brokenPoints()) {
            bad.add("restore point " + p + " does not verify");
        }
        for (Map.Entry<PointRef, byte[]> e : committed.entrySet()) {
            if (!seen.contains(e.getKey())) {
                bad.add("committed restore point " + e.getKey() + " is gone");
                continue;
            }
            byte[] now = Files.readAllBytes(store.pointFile(e.getKey()).orElseThrow());
            if (!java.util.Arrays.equals(now, e.getValue())) {
                bad.add("committed restore point " + e.getKey() + " changed");
            }
        }
        return bad;
    }

    private static long blocks(long bytes) {
        return Math.max(BLOCK, (bytes + BLOCK - 1) / BLOCK * BLOCK);
    }

    static String shortNode(String node) {
        return node.length() > 30 ? node.substring(0, 12) + "...(" + node.length() + " chars)" : node;
    }

    /** A chunk file's name for an id (for tests that damage one on purpose). */
    Path chunkFile(ChunkId id) {
        return layout.incomingChunk(id);
    }
}
