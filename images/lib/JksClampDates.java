import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;

/**
 * Sets the date of every entry of a JKS keystore to one time and recomputes the keystore's
 * integrity hash, leaving everything else byte for byte as it was.
 *
 * <p>Debian's ca-certificates-java writes /etc/ssl/certs/java/cacerts at install time, and a JKS
 * entry records when it was added: the only difference between two base layers built from the same
 * packages. images/build runs this on the base layer with the layer's SOURCE_DATE_EPOCH.
 *
 * <p>Usage: {@code java JksClampDates.java KEYSTORE PASSWORD EPOCH_SECONDS}. The integrity hash is
 * checked with PASSWORD before anything is written; exit status 1 when it does not match or the file
 * is not a JKS keystore of trusted certificates and keys.
 */
public final class JksClampDates {

    private static final int MAGIC = 0xFEEDFEED;
    private static final int PRIVATE_KEY = 1;
    private static final int TRUSTED_CERT = 2;
    private static final int DIGEST_LENGTH = 20;

    private JksClampDates() {
    }

    public static void main(String[] args) throws IOException, NoSuchAlgorithmException {
        if (args.length != 3) {
            System.err.println("usage: java JksClampDates.java KEYSTORE PASSWORD EPOCH_SECONDS");
            System.exit(2);
        }
        Path file = Path.of(args[0]);
        char[] password = args[1].toCharArray();
        long millis = Long.parseLong(args[2]) * 1000L;
        byte[] all = Files.readAllBytes(file);
        if (all.length < 12 + DIGEST_LENGTH) {
            fail(file + " is too short for a JKS keystore");
        }
        byte[] body = Arrays.copyOf(all, all.length - DIGEST_LENGTH);
        byte[] stored = Arrays.copyOfRange(all, all.length - DIGEST_LENGTH, all.length);
        if (!Arrays.equals(stored, digest(password, body))) {
            fail(file + ": the integrity hash does not match the password given; nothing changed");
        }
        ByteArrayOutputStream rewritten = new ByteArrayOutputStream(body.length);
        int entries = rewrite(new DataInputStream(new java.io.ByteArrayInputStream(body)),
                new DataOutputStream(rewritten), millis, file);
        byte[] out = rewritten.toByteArray();
        if (out.length != body.length) {
            fail(file + ": " + (body.length - out.length) + " bytes after the last entry; nothing changed");
        }
        ByteArrayOutputStream result = new ByteArrayOutputStream(all.length);
        result.write(out);
        result.write(digest(password, out));
        Files.write(file, result.toByteArray());
        System.out.println(file + ": " + entries + " entries dated " + args[2]);
    }

    private static int rewrite(DataInputStream in, DataOutputStream out, long millis, Path file) throws IOException {
        if (in.readInt() != MAGIC) {
            fail(file + " is not a JKS keystore (no FEEDFEED magic)");
        }
        int version = in.readInt();
        if (version != 2) {
            fail(file + ": JKS version " + version + ", only version 2 is known");
        }
        int count = in.readInt();
        out.writeInt(MAGIC);
        out.writeInt(version);
        out.writeInt(count);
        for (int i = 0; i < count; i++) {
            int tag = in.readInt();
            out.writeInt(tag);
            out.writeUTF(in.readUTF());
            in.readLong();
            out.writeLong(millis);
            if (tag == TRUSTED_CERT) {
                copyCertificate(in, out);
            } else if (tag == PRIVATE_KEY) {
                copyBytes(in, out);
                int chain = in.readInt();
                out.writeInt(chain);
                for (int c = 0; c < chain; c++) {
                    copyCertificate(in, out);
                }
            } else {
                fail(file + ": entry " + i + " has the unknown tag " + tag);
            }
        }
        out.flush();
        return count;
    }

    private static void copyCertificate(DataInputStream in, DataOutputStream out) throws IOException {
        out.writeUTF(in.readUTF());
        copyBytes(in, out);
    }

    private static void copyBytes(DataInputStream in, DataOutputStream out) throws IOException {
        int length = in.readInt();
        out.writeInt(length);
        out.write(in.readNBytes(length));
    }

    /** The JKS integrity hash: SHA-1 of the password (two bytes a char), "Mighty Aphrodite", the body. */
    private static byte[] digest(char[] password, byte[] body) throws NoSuchAlgorithmException {
        MessageDigest sha1 = MessageDigest.getInstance("SHA-1");
        for (char c : password) {
            sha1.update((byte) (c >> 8));
            sha1.update((byte) c);
        }
        sha1.update("Mighty Aphrodite".getBytes(StandardCharsets.UTF_8));
        sha1.update(body);
        return sha1.digest();
    }

    private static void fail(String message) {
        System.err.println("JksClampDates: " + message);
        System.exit(1);
    }
}
