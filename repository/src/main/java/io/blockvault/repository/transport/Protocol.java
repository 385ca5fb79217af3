package io.blockvault.repository.transport;

/**
 * The wire protocol (inside TLS 1.3). Every message is a frame: u32 length (of what follows), u8
 * type, payload. Strings are Java modified UTF-8 with a u16 length; integers big-endian. The first
 * frame must be HELLO; the server answers WELCOME or ERROR (and then closes). After that the client
 * sends one request at a time; each gets OK/ERROR or a typed reply. A frame longer than the limit
 * announced in WELCOME is refused with ERROR and the connection is closed, since the stream cannot
 * be resynchronised; so is anything that does not parse.
 */
public final class Protocol {

    public static final byte[] MAGIC = {'B', 'V', 'R', 'P'};
    public static final int VERSION = 1;
    public static final int DEFAULT_PORT = 6162;

    public static final int HELLO = 1;          // magic, u16 version, token
    public static final int WELCOME = 2;        // identity, u32 max frame bytes
    public static final int ERROR = 3;          // u8 reason ordinal, message
    public static final int OK = 4;             // request-specific payload

    public static final int LACK = 10;          // node, session, u32 n, n ids  -> LACK_REPLY u32 m, m ids
    public static final int LACK_REPLY = 11;
    public static final int PUT_CHUNK = 12;     // node, id, stored bytes        -> OK u8 created
    public static final int COMMIT = 13;        // session, u32 total index bytes -> OK after the last COMMIT_PART
    public static final int COMMIT_PART = 14;   // index bytes

    public static final int LIST = 20;          // node or ""                    -> LIST_PART* (u8 last, u32 n, items)
    public static final int LIST_PART = 21;
    public static final int READ_POINT = 22;    // node, point                   -> INDEX_PART* (u8 last, bytes)
    public static final int INDEX_PART = 23;
    public static final int READ_CHUNKS = 24;   // node, point, u32 from, u32 count -> CHUNK* then OK (or ERROR)
    public static final int CHUNK = 25;         // u32 index, id, stored bytes

    public static final int DELETE = 30;        // node, point                   -> OK u64 requested-at epoch ms
    public static final int VERIFY = 31;        // u32 n, n x (node, point)      -> VERIFY_REPLY
    public static final int VERIFY_REPLY = 32;
    public static final int STATS = 33;         // (empty)                       -> STATS_REPLY
    public static final int STATS_REPLY = 34;   // u64 capacity, used, free, stored, logical bytes, u64 points, sealed,
                                                // u8 guard seen, u64 trusted now epoch ms, u32 lock days, warning ("" = none)

    /** Room for a chunk of the largest size plus header and framing. */
    public static final int DEFAULT_MAX_FRAME = (8 << 20) + 4096;
    /** Index bytes per INDEX_PART / COMMIT_PART frame. */
    public static final int PART = 1 << 20;

    private Protocol() {
    }
}
