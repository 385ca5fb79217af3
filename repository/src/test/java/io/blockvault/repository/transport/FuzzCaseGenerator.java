package io.blockvault.repository.transport;

import io.blockvault.repository.format.ChangeId;
import io.blockvault.repository.format.ChunkId;
import io.blockvault.repository.format.DeviceIdentity;
import io.blockvault.repository.format.IndexCodec;
import io.blockvault.repository.format.PointStats;
import io.blockvault.repository.format.RestorePointIndex;
import io.blockvault.repository.format.TestChunks;
import io.blockvault.repository.transport.FuzzCase.Ending;
import io.blockvault.repository.transport.FuzzCase.Transport;
import io.blockvault.repository.transport.FuzzWire.Payload;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.Random;

/**
 * Generates cases from a grammar of the real protocol: valid frames of every request type built from
 * what the world knows (own and other nodes' points, stored chunk ids), then mutated at three levels:
 * fields (other nodes' names, invalid names, strings that are not modified UTF-8, counts that lie),
 * frames (wrong lengths, truncation, bit flips, foreign types) and sequences (shuffled, duplicated,
 * dropped frames, requests out of order). Some cases are pure random bytes, with or without TLS.
 *
 * <p>Case {@code n} of a seed depends only on the seed and {@code n} (each case has its own
 * {@link Random}), so one case can be generated again without the ones before it.
 */
final class FuzzCaseGenerator {

    /** The server's frame limit in the fuzzed configuration; lengths around it are interesting. */
    private final int maxFrame;
    private final long maxIndex;
    private final FuzzWorld world;

    FuzzCaseGenerator(FuzzWorld world, int maxFrame, long maxIndex) {
        this.world = world;
        this.maxFrame = maxFrame;
        this.maxIndex = maxIndex;
    }

    FuzzCase generate(int number) {
        Random r = new Random(world.seed() * 0x9E3779B97F4A7C15L + number * 0xBF58476D1CE4E5B9L);
        double kind = r.nextDouble();
        if (kind < 0.08) {
            return rawTcp(number, r);
        }
        if (kind < 0.22) {
            return preHello(number, r);
        }
        return authenticated(number, r);
    }

    // ---------------------------------------------------------------- case kinds

    private FuzzCase rawTcp(int number, Random r) {
        List<byte[]> writes = new ArrayList<>();
        String what;
        switch (r.nextInt(6)) {
            case 0 -> {
                what = "random bytes";
                writes.add(random(r, 1 + r.nextInt(4096)));
            }
            case 1 -> {
                what = "TLS record header with a random length";
                byte[] body = random(r, r.nextInt(600));
                writes.add(new Payload().u8(22).u8(3).u8(1 + r.nextInt(3)).u16(r.nextInt(1 << 16)).bytes(body)
                        .toBytes());
            }
            case 2 -> {
                what = "the protocol in cleartext (HELLO with a valid token, then LIST)";
                writes.add(hello(world.token("node:" + world.fuzzNode())));
                writes.add(FuzzWire.frame(Protocol.LIST, new Payload().utf(world.fuzzNode()).toBytes()));
            }
            case 3 -> {
                what = "HTTP";
                writes.add("GET / HTTP/1.1\r\nHost: repository\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            }
            case 4 -> {
                what = "SSLv2-style hello";
                writes.add(new Payload().u8(0x80).u8(0x2e).u8(1).u16(2).bytes(random(r, 40)).toBytes());
            }
            default -> what = "nothing";
        }
        if (!writes.isEmpty() && r.nextInt(4) == 0) {
            what += ", trickled";
            writes = trickle(r, writes);
        }
        Ending ending = ending(r);
        return new FuzzCase(number, Transport.RAW_TCP, Optional.empty(), writes, ending, "raw tcp: " + what + "; "
                + ending);
    }

    /** TLS, then a first frame that must not authenticate anybody, maybe followed by more frames. */
    private FuzzCase preHello(int number, Random r) {
        List<String> steps = new ArrayList<>();
        List<byte[]> frames = new ArrayList<>();
        String valid = world.token("node:" + world.fuzzNode());
        switch (r.nextInt(12)) {
            case 0 -> {
                steps.add("HELLO with a wrong magic and a valid token");
                byte[] magic = random(r, 4);
                frames.add(FuzzWire.frame(Protocol.HELLO, new Payload().bytes(magic).u16(Protocol.VERSION).utf(valid)
                        .toBytes()));
            }
            case 1 -> {
                int version = pick(r, 0, 2, 255, 65535);
                steps.add("HELLO version " + version);
                frames.add(FuzzWire.frame(Protocol.HELLO, new Payload().bytes(Protocol.MAGIC).u16(version).utf(valid)
                        .toBytes()));
            }
            case 2 -> {
                steps.add("HELLO without a token");
                frames.add(FuzzWire.frame(Protocol.HELLO, new Payload().bytes(Protocol.MAGIC).u16(Protocol.VERSION)
                        .toBytes()));
            }
            case 3 -> {
                steps.add("HELLO cut inside the version");
                frames.add(FuzzWire.frame(Protocol.HELLO, new Payload().bytes(Protocol.MAGIC).u8(0).toBytes()));
            }
            case 4 -> {
                Field token = badUtf8(r);
                steps.add("HELLO token " + token.desc());
                frames.add(FuzzWire.frame(Protocol.HELLO, new Payload().bytes(Protocol.MAGIC).u16(Protocol.VERSION)
                        .bytes(token.wire()).toBytes()));
            }
            case 5 -> {
                String token = nearMiss(r, valid);
                steps.add("HELLO with a token that is not one");
                frames.add(hello(token));
            }
            case 6 -> {
                int type = pickType(r, Protocol.HELLO);
                steps.add("first frame of type " + type);
                frames.add(FuzzWire.frame(type, new Payload().utf(world.fuzzNode()).utf("s1").i32(0).toBytes()));
            }
            case 7 -> {
                int length = pick(r, 4097, 4098, maxFrame, maxFrame + 1, Integer.MAX_VALUE, -1);
                steps.add("HELLO announcing " + Integer.toUnsignedString(length) + " bytes");
                frames.add(FuzzWire.frameWithLength(length, Protocol.HELLO, new Payload().bytes(Protocol.MAGIC)
                        .u16(Protocol.VERSION).utf(valid).toBytes()));
            }
            case 8 -> {
                steps.add("frame of length 0");
                frames.add(new Payload().i32(0).toBytes());
            }
            case 9 -> {
                steps.add("random bytes after the handshake");
                frames.add(random(r, 1 + r.nextInt(2048)));
            }
            case 10 -> {
                steps.add("HELLO truncated");
                byte[] h = hello(valid);
                frames.add(Arrays.copyOf(h, 1 + r.nextInt(h.length - 1)));
            }
            default -> steps.add("handshake only");
        }
        if (r.nextInt(3) == 0) {
            steps.add("then requests");
            for (int i = r.nextInt(3); i >= 0; i--) {
                frames.addAll(request(r, "node:" + world.fuzzNode(), steps, false));
            }
        }
        mutateFrames(r, frames, steps, 0.08);
        Ending ending = ending(r);
        return new FuzzCase(number, Transport.TLS, Optional.empty(), frames, ending, "tls, no valid HELLO: "
                + String.join("; ", steps) + "; " + ending);
    }

    private FuzzCase authenticated(int number, Random r) {
        double who = r.nextDouble();
        String identity = who < 0.72 ? "node:" + world.fuzzNode() : who < 0.86 ? "node:" + world.longNode()
                : "operator";
        List<String> steps = new ArrayList<>();
        List<byte[]> frames = new ArrayList<>();
        int requests = 1 + r.nextInt(6);
        for (int i = 0; i < requests; i++) {
            frames.addAll(request(r, identity, steps, true));
        }
        sequenceMutations(r, frames, steps);
        mutateFrames(r, frames, steps, 0.10);
        frames.add(0, hello(world.token(identity)));
        Ending ending = ending(r);
        return new FuzzCase(number, Transport.TLS, Optional.of(identity), frames, ending, "tls as "
                + shortName(identity) + ": " + String.join("; ", steps) + "; " + ending);
    }

    private static String shortName(String identity) {
        return identity.length() > 30 ? identity.substring(0, 20) + "...(" + identity.length() + " chars)" : identity;
    }

    private static Ending ending(Random r) {
        double e = r.nextDouble();
        return e < 0.03 ? Ending.STALL : e < 0.07 ? Ending.ABORT : Ending.HALF_CLOSE;
    }

    // ---------------------------------------------------------------- requests

    /**
     * The frames of one request of the grammar, with its step description added to {@code steps}.
     * Without {@code validHello} a HELLO in it carries no valid token: it follows frames that must not
     * authenticate, and may be the first frame the server sees.
     */
    private List<byte[]> request(Random r, String identity, List<String> steps, boolean validHello) {
        String own = identity.startsWith("node:") ? identity.substring(5) : pickNode(r);
        int w = r.nextInt(100);
        if (w < 16) {
            return lack(r, own, steps);
        }
        if (w < 30) {
            return put(r, own, steps);
        }
        if (w < 46) {
            return backup(r, own, steps);
        }
        if (w < 56) {
            return commit(r, own, steps);
        }
        if (w < 62) {
            Field node = r.nextInt(5) == 0 ? str("") : nodeField(r, own);
            steps.add("LIST " + node.desc());
            return List.of(FuzzWire.frame(Protocol.LIST, node.wire()));
        }
        if (w < 70) {
            Field[] ref = pointRef(r, own);
            steps.add("READ_POINT " + ref[0].desc() + "/" + ref[1].desc());
            return List.of(FuzzWire.frame(Protocol.READ_POINT, concat(ref[0].wire(), ref[1].wire())));
        }
        if (w < 78) {
            Field[] ref = pointRef(r, own);
            int from = pick(r, 0, 0, 1, 2, -1, Integer.MAX_VALUE, Integer.MIN_VALUE, r.nextInt(10));
            int count = pick(r, 1, 3, 4096, 4097, 0, -1, Integer.MIN_VALUE, Integer.MAX_VALUE);
            steps.add("READ_CHUNKS " + ref[0].desc() + "/" + ref[1].desc() + " from " + from + " count " + count);
            return List.of(FuzzWire.frame(Protocol.READ_CHUNKS, new Payload().bytes(ref[0].wire()).bytes(ref[1].wire())
                    .i32(from).i32(count).toBytes()));
        }
        if (w < 82) {
            Field[] ref = pointRef(r, own);
            steps.add("DELETE " + ref[0].desc() + "/" + ref[1].desc());
            return List.of(FuzzWire.frame(Protocol.DELETE, concat(ref[0].wire(), ref[1].wire())));
        }
        if (w < 86) {
            int real = r.nextInt(5);
            int announced = r.nextInt(3) == 0 ? pick(r, -1, 100_000, 100_001, Integer.MAX_VALUE, real + 1) : real;
            Payload p = new Payload().i32(announced);
            for (int i = 0; i < real; i++) {
                Field[] ref = pointRef(r, own);
                p.bytes(ref[0].wire()).bytes(ref[1].wire());
            }
            steps.add("VERIFY " + real + " points announcing " + announced);
            return List.of(FuzzWire.frame(Protocol.VERIFY, p.toBytes()));
        }
        if (w < 89) {
            steps.add("STATS");
            return List.of(FuzzWire.frame(Protocol.STATS, r.nextBoolean() ? new byte[0] : random(r, 8)));
        }
        if (w < 91) {
            String token = world.token("node:" + world.fuzzNode());
            steps.add(validHello ? "HELLO again" : "HELLO with a token that is not one");
            return List.of(hello(validHello ? token : nearMiss(r, token)));
        }
        if (w < 93) {
            steps.add("COMMIT_PART without COMMIT");
            return List.of(FuzzWire.frame(Protocol.COMMIT_PART, random(r, r.nextInt(200))));
        }
        if (w < 96) {
            int type = pick(r, Protocol.WELCOME, Protocol.ERROR, Protocol.OK, Protocol.LACK_REPLY, Protocol.LIST_PART,
                    Protocol.INDEX_PART, Protocol.CHUNK, Protocol.VERIFY_REPLY, Protocol.STATS_REPLY);
            steps.add("a reply type (" + type + ") sent as a request");
            return List.of(FuzzWire.frame(type, random(r, r.nextInt(64))));
        }
        int type = r.nextInt(256);
        steps.add("opcode " + type + " with random payload");
        return List.of(FuzzWire.frame(type, random(r, r.nextInt(128))));
    }

    private List<byte[]> lack(Random r, String own, List<String> steps) {
        Field node = nodeField(r, own);
        Field session = sessionField(r);
        List<ChunkId> ids = new ArrayList<>();
        String shape;
        if (r.nextInt(20) == 0) {
            ChunkId one = knownChunk(r);
            ids.addAll(Collections.nCopies(20_000 + r.nextInt(10_000), one));
            shape = ids.size() + " copies of one stored id";
        } else {
            for (int i = r.nextInt(70); i > 0; i--) {
                ids.add(chunkId(r, List.of()));
            }
            if (!ids.isEmpty() && r.nextBoolean()) {
                ids.addAll(ids.subList(0, 1 + r.nextInt(ids.size())));
            }
            shape = ids.size() + " ids";
        }
        int announced = r.nextInt(5) == 0 ? pick(r, ids.size() + 1, ids.size() - 1, -1, Integer.MAX_VALUE, 1 << 28, 0)
                : ids.size();
        Payload p = new Payload().bytes(node.wire()).bytes(session.wire()).i32(announced);
        for (ChunkId id : ids) {
            p.bytes(id.bytes());
        }
        steps.add("LACK " + node.desc() + " session " + session.desc() + " " + shape + " announcing " + announced);
        return List.of(FuzzWire.frame(Protocol.LACK, p.toBytes()));
    }

    private List<byte[]> put(Random r, String own, List<String> steps) {
        Field node = nodeField(r, own);
        ChunkId id = r.nextInt(8) == 0 ? ChunkId.ZERO : chunkId(r, List.of());
        StoredChunk c = storedChunk(r, id);
        steps.add("PUT_CHUNK " + node.desc() + " " + c.desc());
        return List.of(FuzzWire.frame(Protocol.PUT_CHUNK, new Payload().bytes(node.wire()).bytes(id.bytes())
                .bytes(c.bytes()).toBytes()));
    }

    private record StoredChunk(String desc, byte[] bytes) {
    }

    /** Stored bytes for {@code id}: valid, or damaged in one of the ways the server must notice. */
    private StoredChunk storedChunk(Random r, ChunkId id) {
        TestChunks chunks = new TestChunks(random(r, 1 + r.nextInt(r.nextInt(8) == 0 ? 60_000 : 3000)));
        byte[] valid = chunks.stored(id);
        switch (r.nextInt(10)) {
            case 0 -> {
                return new StoredChunk("under another id's header", chunks.stored(freshId(r)));
            }
            case 1 -> {
                return new StoredChunk("header bit flip", flip(r, valid, 0, 88));
            }
            case 2 -> {
                return new StoredChunk("payload bit flip", flip(r, valid, 88, valid.length));
            }
            case 3 -> {
                return new StoredChunk("truncated", Arrays.copyOf(valid, r.nextInt(valid.length)));
            }
            case 4 -> {
                return new StoredChunk("with trailing bytes", concat(valid, random(r, 1 + r.nextInt(16))));
            }
            case 5 -> {
                return new StoredChunk("empty", new byte[0]);
            }
            default -> {
                return new StoredChunk("valid", valid);
            }
        }
    }

    /** A lack check, uploads and a commit of a point that uses them: the path most backups take. */
    private List<byte[]> backup(Random r, String own, List<String> steps) {
        List<ChunkId> fresh = new ArrayList<>();
        for (int i = 1 + r.nextInt(4); i > 0; i--) {
            fresh.add(freshId(r));
        }
        String session = "b" + r.nextInt(40);
        List<byte[]> frames = new ArrayList<>();
        Payload lack = new Payload().utf(own).utf(session).i32(fresh.size());
        fresh.forEach(id -> lack.bytes(id.bytes()));
        frames.add(FuzzWire.frame(Protocol.LACK, lack.toBytes()));
        for (ChunkId id : fresh) {
            byte[] stored = new TestChunks(random(r, 1 + r.nextInt(3000))).stored(id);
            frames.add(FuzzWire.frame(Protocol.PUT_CHUNK, new Payload().utf(own).bytes(id.bytes()).bytes(stored)
                    .toBytes()));
        }
        String pointId = freshPointId(r);
        byte[] index = IndexCodec.toBytes(index(r, own, pointId, fresh));
        frames.addAll(commitFrames(r, session, index, index.length, 1 + r.nextInt(3)));
        steps.add("backup of " + own.length() + "-char node point " + pointId + " (" + fresh.size()
                + " new chunks, session " + session + ")");
        return frames;
    }

    private List<byte[]> commit(Random r, String own, List<String> steps) {
        Field session = r.nextInt(6) == 0 ? sessionField(r) : str("c" + r.nextInt(40));
        byte[] index;
        String what;
        int choice = r.nextInt(10);
        if (choice < 2 && !world.knownPoints().isEmpty()) {
            FuzzWorld.KnownPoint p = world.knownPoints().get(r.nextInt(world.knownPoints().size()));
            index = p.index();
            what = "the index of known point " + p.ref();
        } else if (choice == 2) {
            int count = pick(r, IndexCodec.MAX_CHUNKS, IndexCodec.MAX_CHUNKS + 1, Integer.MAX_VALUE, 1 << 20);
            index = hugeCountIndex(r, own, count);
            what = "an index header announcing " + count + " chunks";
        } else {
            String node = r.nextInt(6) == 0 ? otherNode(r, own) : own;
            List<ChunkId> ids = new ArrayList<>();
            index = IndexCodec.toBytes(index(r, node, freshPointId(r), ids));
            what = "an index of " + (node.equals(own) ? "its own node" : "node " + shortName(node));
        }
        if (r.nextInt(3) == 0) {
            int mutation = r.nextInt(4);
            index = switch (mutation) {
                case 0 -> flip(r, index, 0, index.length);
                case 1 -> Arrays.copyOf(index, r.nextInt(index.length));
                case 2 -> concat(index, random(r, 1 + r.nextInt(40)));
                default -> setInt(index, Math.max(0, index.length - 36 - r.nextInt(Math.min(index.length - 3, 200))),
                        pick(r, -1, Integer.MAX_VALUE, IndexCodec.MAX_CHUNKS, 0));
            };
            what += ", " + List.of("bit-flipped", "truncated", "with trailing bytes", "an int overwritten").get(mutation);
        }
        long total = r.nextInt(5) == 0 ? pickLong(r, index.length + 1, index.length - 1, 0, maxIndex + 1,
                0xffffffffL, r.nextInt(1 << 20)) : index.length;
        steps.add("COMMIT session " + session.desc() + " of " + what + " (" + index.length + " bytes, announcing "
                + total + ")");
        List<byte[]> frames = new ArrayList<>();
        frames.add(FuzzWire.frame(Protocol.COMMIT, new Payload().bytes(session.wire()).i32((int) total).toBytes()));
        List<byte[]> parts = parts(r, index, 1 + r.nextInt(4));
        if (r.nextInt(8) == 0 && parts.size() > 1) {
            parts.add(1 + r.nextInt(parts.size() - 1), FuzzWire.frame(Protocol.LIST, new Payload().utf(own).toBytes()));
            steps.add("a LIST between the parts");
        }
        if (r.nextInt(10) == 0) {
            parts.add(FuzzWire.frame(Protocol.COMMIT_PART, random(r, 1 + r.nextInt(64))));
            steps.add("one part too many");
        }
        frames.addAll(parts);
        return frames;
    }

    private List<byte[]> commitFrames(Random r, String session, byte[] index, long total, int nParts) {
        List<byte[]> frames = new ArrayList<>();
        frames.add(FuzzWire.frame(Protocol.COMMIT, new Payload().utf(session).i32((int) total).toBytes()));
        frames.addAll(parts(r, index, nParts));
        return frames;
    }

    private static List<byte[]> parts(Random r, byte[] index, int n) {
        List<byte[]> parts = new ArrayList<>();
        int at = 0;
        for (int i = 0; i < n && at < index.length; i++) {
            int end = i == n - 1 ? index.length : at + r.nextInt(index.length - at + 1);
            parts.add(FuzzWire.frame(Protocol.COMMIT_PART, Arrays.copyOfRange(index, at, end)));
            at = end;
        }
        return parts;
    }

    /**
     * A valid index of {@code node} for 1..6 chunks: those in {@code mustUse} (uploaded in this case),
     * then stored, new (missing), zero ids.
     */
    private RestorePointIndex index(Random r, String node, String pointId, List<ChunkId> mustUse) {
        int chunkSize = 4096 * pick(r, 1, 2, 16);
        List<ChunkId> ids = new ArrayList<>(mustUse);
        for (int extra = r.nextInt(3); extra > 0 || ids.isEmpty(); extra--) {
            ids.add(r.nextInt(4) == 0 ? ChunkId.ZERO : chunkId(r, mustUse));
        }
        long size = (long) ids.size() * chunkSize - r.nextInt(chunkSize);
        Optional<String> parent = r.nextInt(3) == 0 ? Optional.of(freshPointId(r)) : Optional.empty();
        long started = 1_700_000_000_000L + r.nextInt(1 << 30);
        return new RestorePointIndex(pointId, node, new DeviceIdentity("/dev/disk/by-id/fuzz-" + r.nextInt(1000), size),
                chunkSize, new ChangeId("gen-" + r.nextInt(9), r.nextLong()), parent, started, started + r.nextInt(9999),
                0, new PointStats(r.nextLong(), r.nextInt(), r.nextInt(9), r.nextInt(9), r.nextInt(9)), ids);
    }

    /** The fields of an index up to its chunk count, a count that promises much, and no ids. */
    private static byte[] hugeCountIndex(Random r, String node, int count) {
        return new Payload().bytes("BVIX".getBytes(StandardCharsets.US_ASCII)).u16(IndexCodec.VERSION).utf("huge")
                .utf(node).utf("/dev/disk/by-id/huge").i64(4096L * count).i32(4096).utf("gen").i64(1).utf("")
                .i64(1).i64(2).i32(0).i64(0).i64(0).i64(0).i64(0).i64(0).i32(count).bytes(random(r, 32 + r.nextInt(64)))
                .toBytes();
    }

    // ---------------------------------------------------------------- fields

    /** A field's description and its bytes on the wire (u16 length and content for strings). */
    private record Field(String desc, byte[] wire) {
    }

    private static Field str(String s) {
        return new Field(s.length() > 24 ? "'" + s.substring(0, 12) + "...'(" + s.length() + ")" : "'" + s + "'",
                new Payload().utf(s).toBytes());
    }

    private static final List<String> BAD_NAMES = List.of("", "..", "Node-A", "-a", "a-", "a..b", "a/b", "../a", ".",
            "a b", "a\u0000b", "x".repeat(254), "n\u00e9", "a\nb", "*", "node-a/../node-b");

    private Field nodeField(Random r, String own) {
        double p = r.nextDouble();
        if (p < 0.65) {
            return str(own);
        }
        if (p < 0.77) {
            return str(otherNode(r, own));
        }
        if (p < 0.85) {
            return str(BAD_NAMES.get(r.nextInt(BAD_NAMES.size())));
        }
        if (p < 0.93) {
            return badUtf8(r);
        }
        return str(randomText(r, r.nextInt(300)));
    }

    private Field sessionField(Random r) {
        double p = r.nextDouble();
        if (p < 0.8) {
            return str("s" + r.nextInt(50));
        }
        if (p < 0.9) {
            return str(List.of("", ".s", "s/t", "x".repeat(129), "s*", "s?", "s[", "s{a,b}").get(r.nextInt(8)));
        }
        return badUtf8(r);
    }

    /** Node and point id fields: mostly points that exist (own or other nodes'), some invented or invalid. */
    private Field[] pointRef(Random r, String own) {
        double p = r.nextDouble();
        if (p < 0.6 && !world.knownPoints().isEmpty()) {
            FuzzWorld.KnownPoint k = world.knownPoints().get(r.nextInt(world.knownPoints().size()));
            // the other node's point id under its own name, or under ours
            String node = r.nextBoolean() ? k.ref().node() : own;
            return new Field[] {str(node), str(k.ref().pointId())};
        }
        if (p < 0.8) {
            return new Field[] {nodeField(r, own), str(freshPointId(r))};
        }
        Field point = r.nextBoolean() ? badUtf8(r) : str(List.of("", ".x", "a/b", "x".repeat(129), "..", "p\u0000")
                .get(r.nextInt(6)));
        return new Field[] {nodeField(r, own), point};
    }

    /** Strings that are not modified UTF-8, or whose length field lies. */
    private static Field badUtf8(Random r) {
        List<byte[]> bad = List.of(new byte[] {(byte) 0xff}, new byte[] {(byte) 0xc0}, new byte[] {(byte) 0xe0,
            (byte) 0x80}, new byte[] {(byte) 0x80}, new byte[] {(byte) 0xf0, (byte) 0x9f, (byte) 0x98, (byte) 0x80},
            new byte[] {'a', (byte) 0xc3}, new byte[] {(byte) 0xed, (byte) 0xa0, (byte) 0x80}, new byte[] {0},
            new byte[] {'n', (byte) 0xc0, (byte) 0x80, 'a'});
        int k = r.nextInt(bad.size() + 2);
        if (k == bad.size()) {
            byte[] junk = random(r, 1 + r.nextInt(20));
            return new Field("random bytes as a string", new Payload().rawUtf(junk).toBytes());
        }
        if (k == bad.size() + 1) {
            return new Field("a string whose length passes the frame", new Payload().u16(1000 + r.nextInt(60_000))
                    .bytes("node-a".getBytes(StandardCharsets.US_ASCII)).toBytes());
        }
        return new Field("bad UTF-8 " + java.util.HexFormat.of().formatHex(bad.get(k)), new Payload().rawUtf(bad.get(k))
                .toBytes());
    }

    private String pickNode(Random r) {
        return List.of(world.fuzzNode(), world.otherNode(), world.probeNode(), world.longNode()).get(r.nextInt(4));
    }

    private String otherNode(Random r, String own) {
        List<String> others = new ArrayList<>(List.of(world.fuzzNode(), world.otherNode(), world.probeNode(),
                world.longNode()));
        others.remove(own);
        return others.get(r.nextInt(others.size()));
    }

    private ChunkId chunkId(Random r, List<ChunkId> uploaded) {
        double p = r.nextDouble();
        if (p < 0.4) {
            return knownChunk(r);
        }
        if (p < 0.55 && !uploaded.isEmpty()) {
            return uploaded.get(r.nextInt(uploaded.size()));
        }
        return p < 0.6 ? ChunkId.ZERO : freshId(r);
    }

    private ChunkId knownChunk(Random r) {
        return world.knownChunks().get(r.nextInt(world.knownChunks().size()));
    }

    private static ChunkId freshId(Random r) {
        byte[] b = random(r, ChunkId.LENGTH);
        b[0] |= 1; // never the zero id
        return ChunkId.of(b);
    }

    /** Point ids from a small space, so that commits of one id meet again in later cases. */
    private static String freshPointId(Random r) {
        return "f" + r.nextInt(400);
    }

    // ---------------------------------------------------------------- frame and sequence mutations

    private void mutateFrames(Random r, List<byte[]> frames, List<String> steps, double probability) {
        for (int i = 0; i < frames.size(); i++) {
            if (r.nextDouble() >= probability) {
                continue;
            }
            byte[] f = frames.get(i);
            int m = r.nextInt(7);
            switch (m) {
                case 0 -> {
                    int delta = r.nextBoolean() ? 1 + r.nextInt(3) : -1 - r.nextInt(3);
                    frames.set(i, setInt(f, 0, getInt(f) + delta));
                    steps.add("frame " + i + " length " + (delta > 0 ? "+" : "") + delta);
                }
                case 1 -> {
                    int length = pick(r, 0, 1, maxFrame, maxFrame + 1, Integer.MAX_VALUE, -1, 1 << 24);
                    frames.set(i, setInt(f, 0, length));
                    steps.add("frame " + i + " length set to " + Integer.toUnsignedString(length));
                }
                case 2 -> {
                    frames.set(i, Arrays.copyOf(f, r.nextInt(f.length)));
                    steps.add("frame " + i + " truncated");
                }
                case 3, 4 -> {
                    frames.set(i, flip(r, f, 4, f.length));
                    steps.add("frame " + i + " bit flips");
                }
                case 5 -> {
                    byte[] g = f.clone();
                    if (g.length > 4) {
                        g[4] = (byte) r.nextInt(256);
                    }
                    frames.set(i, g);
                    steps.add("frame " + i + " type " + (g.length > 4 ? g[4] & 0xff : -1));
                }
                default -> {
                    frames.set(i, concat(f, random(r, 1 + r.nextInt(32))));
                    steps.add("garbage after frame " + i);
                }
            }
        }
    }

    private static void sequenceMutations(Random r, List<byte[]> frames, List<String> steps) {
        if (frames.size() > 1 && r.nextInt(12) == 0) {
            Collections.shuffle(frames, r);
            steps.add("frames shuffled");
        }
        if (!frames.isEmpty() && r.nextInt(15) == 0) {
            int i = r.nextInt(frames.size());
            frames.add(i, frames.get(i));
            steps.add("frame " + i + " sent twice");
        }
        if (frames.size() > 1 && r.nextInt(20) == 0) {
            steps.add("frame " + frames.size() / 2 + " dropped");
            frames.remove(frames.size() / 2);
        }
    }

    /** Splits the writes into pieces of a few bytes, each its own write. */
    private static List<byte[]> trickle(Random r, List<byte[]> writes) {
        List<byte[]> out = new ArrayList<>();
        for (byte[] w : writes) {
            int at = 0;
            while (at < w.length && out.size() < 64) {
                int n = Math.min(w.length - at, 1 + r.nextInt(8));
                out.add(Arrays.copyOfRange(w, at, at + n));
                at += n;
            }
            if (at < w.length) {
                out.add(Arrays.copyOfRange(w, at, w.length));
            }
        }
        return out;
    }

    // ---------------------------------------------------------------- bytes

    static byte[] hello(String token) {
        return FuzzWire.frame(Protocol.HELLO, new Payload().bytes(Protocol.MAGIC).u16(Protocol.VERSION).utf(token)
                .toBytes());
    }

    private static String nearMiss(Random r, String valid) {
        return switch (r.nextInt(5)) {
            case 0 -> valid.substring(0, valid.length() - 1);
            case 1 -> valid + " ";
            case 2 -> valid.toUpperCase(java.util.Locale.ROOT);
            case 3 -> "";
            default -> randomText(r, 1 + r.nextInt(200));
        };
    }

    private static int pickType(Random r, int not) {
        int t;
        do {
            t = r.nextInt(256);
        } while (t == not);
        return t;
    }

    private static int pick(Random r, int... values) {
        return values[r.nextInt(values.length)];
    }

    private static long pickLong(Random r, long... values) {
        return values[r.nextInt(values.length)];
    }

    static byte[] random(Random r, int n) {
        byte[] b = new byte[n];
        r.nextBytes(b);
        return b;
    }

    private static String randomText(Random r, int n) {
        StringBuilder b = new StringBuilder(n);
        for (int i = 0; i < n; i++) {
            b.append((char) (0x20 + r.nextInt(0x5f)));
        }
        return b.toString();
    }

    private static byte[] flip(Random r, byte[] b, int from, int to) {
        byte[] out = b.clone();
        if (to <= from) {
            return out;
        }
        for (int i = 1 + r.nextInt(8); i > 0; i--) {
            int at = from + r.nextInt(to - from);
            out[at] ^= (byte) (1 << r.nextInt(8));
        }
        return out;
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    private static int getInt(byte[] b) {
        return b.length < 4 ? 0 : (b[0] & 0xff) << 24 | (b[1] & 0xff) << 16 | (b[2] & 0xff) << 8 | (b[3] & 0xff);
    }

    private static byte[] setInt(byte[] b, int at, int v) {
        byte[] out = b.length < at + 4 ? Arrays.copyOf(b, at + 4) : b.clone();
        out[at] = (byte) (v >>> 24);
        out[at + 1] = (byte) (v >>> 16);
        out[at + 2] = (byte) (v >>> 8);
        out[at + 3] = (byte) v;
        return out;
    }
}
