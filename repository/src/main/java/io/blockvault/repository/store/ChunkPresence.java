package io.blockvault.repository.store;

import io.blockvault.repository.format.ChunkId;

/**
 * The 64-bit prefixes of every chunk id the repository holds, in an open-addressing table
 * (about 16 bytes per chunk). A miss is exact: the chunk is absent, no filesystem call needed. A hit
 * may be a prefix collision or a chunk GC removed since, so callers confirm hits on disk. This makes
 * the lack check of a 1 TiB index (262 144 ids) cost a few stat calls instead of half a million.
 */
final class ChunkPresence {

    private long[] table = new long[1 << 16];
    private int size;

    private static long key(ChunkId id) {
        byte[] b = id.bytes();
        long k = 0;
        for (int i = 0; i < 8; i++) {
            k = k << 8 | (b[i] & 0xff);
        }
        return k == 0 ? 1 : k;
    }

    private static int slot(long key, int mask) {
        long h = key * 0x9E3779B97F4A7C15L;
        return (int) (h >>> 32) & mask;
    }

    /** Adds an id's prefix; false when it was there already. */
    synchronized boolean add(ChunkId id) {
        if ((size + 1) * 2 > table.length) {
            grow();
        }
        if (insert(table, key(id))) {
            size++;
            return true;
        }
        return false;
    }

    synchronized boolean mayContain(ChunkId id) {
        long k = key(id);
        int mask = table.length - 1;
        for (int i = slot(k, mask); ; i = (i + 1) & mask) {
            if (table[i] == 0) {
                return false;
            }
            if (table[i] == k) {
                return true;
            }
        }
    }

    synchronized int size() {
        return size;
    }

    private static boolean insert(long[] t, long k) {
        int mask = t.length - 1;
        for (int i = slot(k, mask); ; i = (i + 1) & mask) {
            if (t[i] == 0) {
                t[i] = k;
                return true;
            }
            if (t[i] == k) {
                return false;
            }
        }
    }

    private void grow() {
        long[] next = new long[table.length * 2];
        for (long k : table) {
            if (k != 0) {
                insert(next, k);
            }
        }
        table = next;
    }
}
