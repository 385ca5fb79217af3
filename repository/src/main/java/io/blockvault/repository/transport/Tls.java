package io.blockvault.repository.transport;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/** TLS 1.3 contexts from PEM files (what Kubernetes Secrets and cert-manager hold). */
public final class Tls {

    public static final String[] PROTOCOLS = {"TLSv1.3"};
    private static final Pattern BLOCK = Pattern.compile(
            "-----BEGIN ([A-Z ]+)-----([A-Za-z0-9+/=\\s]+)-----END \\1-----");

    private Tls() {
    }

    /** A server context from a certificate chain and a PKCS#8 private key. */
    public static SSLContext server(Path certChainPem, Path keyPem) throws IOException {
        try {
            List<Certificate> chain = certificates(certChainPem);
            PrivateKey key = privateKey(keyPem);
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            ks.setKeyEntry("server", key, new char[0], chain.toArray(new Certificate[0]));
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(ks, new char[0]);
            SSLContext ctx = SSLContext.getInstance("TLSv1.3");
            ctx.init(kmf.getKeyManagers(), null, null);
            return ctx;
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot build the TLS server context from " + certChainPem + " and " + keyPem + ": "
                    + e.getMessage(), e);
        }
    }

    /** A client context that trusts only the CA certificates in {@code caPem}. */
    public static SSLContext client(Path caPem) throws IOException {
        try {
            KeyStore ts = KeyStore.getInstance("PKCS12");
            ts.load(null, null);
            int i = 0;
            for (Certificate c : certificates(caPem)) {
                ts.setCertificateEntry("ca" + i++, c);
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(ts);
            SSLContext ctx = SSLContext.getInstance("TLSv1.3");
            ctx.init(null, tmf.getTrustManagers(), null);
            return ctx;
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot build a TLS client context from " + caPem + ": " + e.getMessage(), e);
        }
    }

    private static List<byte[]> blocks(Path pem, String type) throws IOException {
        String text = Files.readString(pem, StandardCharsets.US_ASCII);
        Matcher m = BLOCK.matcher(text);
        List<byte[]> out = new ArrayList<>();
        while (m.find()) {
            if (m.group(1).equals(type)) {
                out.add(Base64.getMimeDecoder().decode(m.group(2)));
            } else if (type.equals("PRIVATE KEY") && m.group(1).endsWith("PRIVATE KEY")) {
                throw new IOException(pem + " holds a '" + m.group(1) + "'; convert it to PKCS#8 with: "
                        + "openssl pkcs8 -topk8 -nocrypt -in " + pem + " -out key.pk8.pem");
            }
        }
        return out;
    }

    static List<Certificate> certificates(Path pem) throws IOException, GeneralSecurityException {
        List<byte[]> der = blocks(pem, "CERTIFICATE");
        if (der.isEmpty()) {
            throw new IOException(pem + " contains no PEM certificate");
        }
        CertificateFactory cf = CertificateFactory.getInstance("X.509");
        List<Certificate> certs = new ArrayList<>();
        for (byte[] d : der) {
            certs.add(cf.generateCertificate(new ByteArrayInputStream(d)));
        }
        return certs;
    }

    static PrivateKey privateKey(Path pem) throws IOException, GeneralSecurityException {
        List<byte[]> der = blocks(pem, "PRIVATE KEY");
        if (der.size() != 1) {
            throw new IOException(pem + " must contain exactly one PKCS#8 'PRIVATE KEY' block");
        }
        PKCS8EncodedKeySpec spec = new PKCS8EncodedKeySpec(der.get(0));
        GeneralSecurityException last = null;
        for (String alg : new String[] {"EC", "RSA", "Ed25519"}) {
            try {
                return KeyFactory.getInstance(alg).generatePrivate(spec);
            } catch (GeneralSecurityException e) {
                last = e;
            }
        }
        throw new IOException(pem + " holds a private key of an unsupported type (EC, RSA and Ed25519 work)", last);
    }
}
