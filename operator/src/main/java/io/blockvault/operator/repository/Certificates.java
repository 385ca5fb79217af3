package io.blockvault.operator.repository;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Date;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * The repository's own small PKI, generated in process with BouncyCastle: a CA and a TLS server
 * certificate it signs. ECDSA P-256 keys: fast to generate, accepted by every TLS 1.3 stack.
 */
public final class Certificates {

    private static final SecureRandom RANDOM = new SecureRandom();

    private Certificates() {
    }

    /** A certificate and its private key. */
    public record Issued(X509Certificate certificate, PrivateKey key) {

        public String certificatePem() {
            return pem(certificate);
        }

        /** PKCS#8 ("PRIVATE KEY"): what Go, Java and OpenSSL all read. */
        public String keyPem() {
            try {
                return pem(new JcaPKCS8Generator(key, null));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot encode the private key as PKCS#8", e);
            }
        }
    }

    public static Issued newCa(String commonName, Instant now, Duration validity) {
        KeyPair keys = ecKeys();
        try {
            X500Name subject = new X500Name("CN=" + commonName);
            X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(subject, serial(),
                    Date.from(now.minus(Duration.ofMinutes(5))), Date.from(now.plus(validity)), subject,
                    keys.getPublic());
            JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(0));
            builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
            builder.addExtension(Extension.subjectKeyIdentifier, false,
                    ext.createSubjectKeyIdentifier(keys.getPublic()));
            return new Issued(sign(builder, keys.getPrivate()), keys.getPrivate());
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("cannot create the repository CA certificate", e);
        }
    }

    public static Issued newServer(Issued ca, String commonName, Collection<String> dnsNames, Instant now,
            Duration validity) {
        KeyPair keys = ecKeys();
        try {
            X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(ca.certificate(), serial(),
                    Date.from(now.minus(Duration.ofMinutes(5))), Date.from(now.plus(validity)),
                    new X500Name("CN=" + commonName), keys.getPublic());
            JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
            builder.addExtension(Extension.extendedKeyUsage, false,
                    new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth));
            builder.addExtension(Extension.authorityKeyIdentifier, false,
                    ext.createAuthorityKeyIdentifier(ca.certificate()));
            builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(dnsNames.stream()
                    .map(n -> new GeneralName(GeneralName.dNSName, n)).toArray(GeneralName[]::new)));
            return new Issued(sign(builder, ca.key()), keys.getPrivate());
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("cannot create the repository server certificate", e);
        }
    }

    /** The DNS names of a certificate's subjectAlternativeName. */
    public static Set<String> dnsNames(X509Certificate certificate) {
        Set<String> names = new TreeSet<>();
        try {
            if (certificate.getSubjectAlternativeNames() != null) {
                for (List<?> entry : certificate.getSubjectAlternativeNames()) {
                    if (Integer.valueOf(GeneralName.dNSName).equals(entry.get(0))) {
                        names.add((String) entry.get(1));
                    }
                }
            }
        } catch (CertificateException e) {
            return Set.of();
        }
        return names;
    }

    /** Whether {@code certificate} carries a valid signature of {@code issuer}. */
    public static boolean signedBy(X509Certificate certificate, X509Certificate issuer) {
        try {
            certificate.verify(issuer.getPublicKey());
            return true;
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    /** Whether {@code certificate} is still valid {@code renewBefore} from now. */
    public static boolean freshFor(X509Certificate certificate, Instant now, Duration renewBefore) {
        return certificate.getNotAfter().toInstant().isAfter(now.plus(renewBefore));
    }

    public static List<X509Certificate> parseCertificates(String pem) {
        try {
            CertificateFactory factory = CertificateFactory.getInstance("X.509");
            List<X509Certificate> result = new ArrayList<>();
            for (var c : factory.generateCertificates(new java.io.ByteArrayInputStream(
                    pem.getBytes(java.nio.charset.StandardCharsets.US_ASCII)))) {
                result.add((X509Certificate) c);
            }
            return result;
        } catch (CertificateException e) {
            return List.of();
        }
    }

    /** The private key of a PEM file (PKCS#8 or traditional); empty when there is none. */
    public static java.util.Optional<PrivateKey> parseKey(String pem) {
        try (PEMParser parser = new PEMParser(new StringReader(pem))) {
            JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
            // An EC key may come after an "EC PARAMETERS" block: read until a key turns up.
            for (Object o = parser.readObject(); o != null; o = parser.readObject()) {
                if (o instanceof PEMKeyPair pair) {
                    return java.util.Optional.of(converter.getPrivateKey(pair.getPrivateKeyInfo()));
                }
                if (o instanceof PrivateKeyInfo info) {
                    return java.util.Optional.of(converter.getPrivateKey(info));
                }
            }
            return java.util.Optional.empty();
        } catch (IOException | RuntimeException e) {
            return java.util.Optional.empty();
        }
    }

    static String pem(Object object) {
        StringWriter out = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
            if (object instanceof JcaPKCS8Generator generator) {
                writer.writeObject(generator);
            } else {
                writer.writeObject(object);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toString();
    }

    private static KeyPair ecKeys() {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
            generator.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
            return generator.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JVM cannot generate EC P-256 keys", e);
        }
    }

    private static BigInteger serial() {
        return new BigInteger(127, RANDOM).add(BigInteger.ONE);
    }

    private static X509Certificate sign(X509v3CertificateBuilder builder, PrivateKey key)
            throws CertificateException {
        try {
            return new JcaX509CertificateConverter().getCertificate(
                    builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(key)));
        } catch (OperatorCreationException e) {
            throw new CertificateException("cannot sign with SHA256withECDSA", e);
        }
    }
}
