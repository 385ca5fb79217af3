package io.blockvault.operator.repository;

import static org.assertj.core.api.Assertions.assertThat;

import java.security.Signature;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class CertificatesTest {

    private static final Instant NOW = Instant.parse("2026-06-01T00:00:00Z");

    @Test
    void caSignsAServerCertificateForTheGivenNames() throws Exception {
        Certificates.Issued ca = Certificates.newCa("test CA", NOW, Duration.ofDays(3650));
        Certificates.Issued server = Certificates.newServer(ca, "repo", List.of("repo", "repo.ns.svc"), NOW,
                Duration.ofDays(90));

        assertThat(ca.certificate().getBasicConstraints()).isGreaterThanOrEqualTo(0);
        assertThat(server.certificate().getBasicConstraints()).isEqualTo(-1);
        assertThat(Certificates.signedBy(server.certificate(), ca.certificate())).isTrue();
        assertThat(Certificates.signedBy(ca.certificate(), server.certificate())).isFalse();
        assertThat(Certificates.dnsNames(server.certificate())).containsExactlyInAnyOrder("repo", "repo.ns.svc");
        assertThat(server.certificate().getExtendedKeyUsage()).contains("1.3.6.1.5.5.7.3.1");
        assertThat(Certificates.freshFor(server.certificate(), NOW, Duration.ofDays(30))).isTrue();
        assertThat(Certificates.freshFor(server.certificate(), NOW.plus(Duration.ofDays(61)), Duration.ofDays(30)))
                .isFalse();
    }

    @Test
    void pemRoundTripsCertificatesBundlesAndKeys() throws Exception {
        Certificates.Issued a = Certificates.newCa("a", NOW, Duration.ofDays(1));
        Certificates.Issued b = Certificates.newCa("b", NOW, Duration.ofDays(1));
        List<X509Certificate> bundle = Certificates.parseCertificates(a.certificatePem() + b.certificatePem());
        assertThat(bundle).containsExactly(a.certificate(), b.certificate());

        var key = Certificates.parseKey(a.keyPem()).orElseThrow();
        Signature signer = Signature.getInstance("SHA256withECDSA");
        signer.initSign(key);
        signer.update(new byte[] {1, 2, 3});
        byte[] signature = signer.sign();
        Signature verifier = Signature.getInstance("SHA256withECDSA");
        verifier.initVerify(a.certificate().getPublicKey());
        verifier.update(new byte[] {1, 2, 3});
        assertThat(verifier.verify(signature)).isTrue();

        assertThat(Certificates.parseKey("not a key")).isEmpty();
        assertThat(Certificates.parseCertificates("-----BEGIN CERTIFICATE-----\nbm90\n-----END CERTIFICATE-----\n"))
                .isEmpty();
    }
}
