package io.blockvault.repository.store;

import io.blockvault.repository.format.ChunkId;
import io.blockvault.repository.format.Names;
import java.nio.file.Path;

/**
 * Where everything lives under a repository root (one filesystem, so the guard can reflink):
 * <pre>
 * incoming/           written by the transport only (its user owns it)
 *   tmp/              temp files; removed at transport start
 *   chunks/HEX        sealed chunks waiting for the guard
 *   points/NODE/ID.idx sealed restore points waiting for the guard
 *   leases/NODE/S.lease chunk ids a backup in progress was told exist (GC keeps them)
 *   requests/*.req    deletion requests; the guard applies its own rules to them
 *   usage/NODE        bytes of new chunks each node has uploaded (quota)
 * store/              root-owned; the guard's clones, each immutable until its lock expires
 *   chunks/AB/HEX
 *   points/NODE/ID.idx (xattr user.blockvault.locked-until = epoch ms of the guard's trusted clock)
 *   guard-status      what the guard last published: trusted time, lock days, clock warnings
 * guard/              root-only (0700): trusted-clock record, GC candidates
 * </pre>
 */
public record RepositoryLayout(Path root) {

    public static final String LOCKED_UNTIL_XATTR = "blockvault.locked-until";

    public Path incoming() {
        return root.resolve("incoming");
    }

    public Path incomingTmp() {
        return incoming().resolve("tmp");
    }

    public Path incomingChunks() {
        return incoming().resolve("chunks");
    }

    public Path incomingChunk(ChunkId id) {
        return incomingChunks().resolve(id.hex());
    }

    public Path incomingPoints() {
        return incoming().resolve("points");
    }

    public Path incomingPoint(String node, String pointId) {
        return incomingPoints().resolve(Names.requireNode(node)).resolve(Names.requirePoint(pointId) + ".idx");
    }

    public Path leases() {
        return incoming().resolve("leases");
    }

    public Path requests() {
        return incoming().resolve("requests");
    }

    public Path usage() {
        return incoming().resolve("usage");
    }

    public Path store() {
        return root.resolve("store");
    }

    public Path storeChunks() {
        return store().resolve("chunks");
    }

    public Path storeChunk(ChunkId id) {
        String hex = id.hex();
        return storeChunks().resolve(hex.substring(0, 2)).resolve(hex);
    }

    public Path storePoints() {
        return store().resolve("points");
    }

    public Path storePoint(String node, String pointId) {
        return storePoints().resolve(Names.requireNode(node)).resolve(Names.requirePoint(pointId) + ".idx");
    }

    public Path guardStatus() {
        return store().resolve("guard-status");
    }

    public Path guardState() {
        return root.resolve("guard");
    }
}
