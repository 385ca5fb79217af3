package io.blockvault.operator.repository;

import static org.assertj.core.api.Assertions.assertThat;

import io.blockvault.api.v1alpha1.BackupRepository;
import io.blockvault.operator.Fixtures;
import io.blockvault.operator.OperatorIdentity;
import io.blockvault.operator.OperatorTestBase;
import io.blockvault.operator.config.RepositoryAccess;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A managed repository: StatefulSet, Services and generated Secrets, updated, removed (keys kept). */
class BackupRepositoryIT extends OperatorTestBase {

    private static final String NS = OperatorIdentity.NAMESPACE;

    BackupRepositoryIT(KubernetesClient admin) {
        super(admin);
    }

    private StatefulSet statefulSet() {
        return admin.apps().statefulSets().inNamespace(NS).withName("vault-repository").get();
    }

    private Secret secret(String name) {
        return admin.secrets().inNamespace(NS).withName(name).get();
    }

    private static String text(Secret s, String key) {
        return new String(Base64.getDecoder().decode(s.getData().get(key)), StandardCharsets.US_ASCII);
    }

    private static BackupRepository managed(KubernetesClient admin) {
        return Fixtures.create(admin, BackupRepository.class, """
                apiVersion: blockvault.io/v1alpha1
                kind: BackupRepository
                metadata:
                  name: vault
                spec:
                  mode: Managed
                  immutabilityDays: 14
                  managed:
                    storageClassName: xfs-reflink
                    storageSize: 500Gi
                """);
    }

    @Test
    void managedRepositoryIsDeployedUpdatedAndRemovedButItsKeysStay(@TempDir Path dir) throws IOException {
        BackupRepository repository = managed(admin);
        // With a token the operator tries the in-cluster Service, which does not resolve here.
        access = new RepositoryAccess(Files.writeString(dir.resolve("token"), "a-token"), Optional.empty(),
                Duration.ofSeconds(5), Duration.ofSeconds(60), Duration.ofMinutes(15));
        startOperator();
        eventually().until(() -> statefulSet() != null);

        // Secrets: a CA, a server certificate it signed for the Service names, 32-byte keys.
        Secret ca = secret("vault-repository-ca");
        Secret tls = secret("vault-repository-tls");
        Secret keys = secret("vault-repository-encryption-key");
        X509Certificate caCert = Certificates.parseCertificates(text(ca, "tls.crt")).get(0);
        X509Certificate serverCert = Certificates.parseCertificates(text(tls, "tls.crt")).get(0);
        assertThat(caCert.getBasicConstraints()).isGreaterThanOrEqualTo(0);
        assertThat(Certificates.signedBy(serverCert, caCert)).isTrue();
        assertThat(Certificates.dnsNames(serverCert)).contains("vault-repository",
                "vault-repository." + NS + ".svc", "*.vault-repository-headless." + NS + ".svc");
        assertThat(tls.getType()).isEqualTo("kubernetes.io/tls");
        assertThat(Certificates.parseKey(text(tls, "tls.key"))).isPresent();
        assertThat(text(keys, "current")).isEqualTo("key-1");
        assertThat(Base64.getDecoder().decode(keys.getData().get("key-1"))).hasSize(32);
        assertThat(Base64.getDecoder().decode(keys.getData().get("id-key"))).hasSize(32)
                .isNotEqualTo(Base64.getDecoder().decode(keys.getData().get("key-1")));

        // Owner references on everything but the keys.
        for (HasMetadata owned : List.of(statefulSet(), ca, tls, service("vault-repository"),
                service("vault-repository-headless"))) {
            assertThat(owned.getMetadata().getOwnerReferences()).singleElement().satisfies(o -> {
                assertThat(o.getKind()).isEqualTo("BackupRepository");
                assertThat(o.getUid()).isEqualTo(repository.getMetadata().getUid());
            });
        }
        assertThat(keys.getMetadata().getOwnerReferences()).isNullOrEmpty();

        // Services on 6162; the headless one has no cluster IP.
        assertThat(service("vault-repository").getSpec().getPorts()).singleElement()
                .satisfies(p -> assertThat(p.getPort()).isEqualTo(6162));
        assertThat(service("vault-repository-headless").getSpec().getClusterIP()).isEqualTo("None");
        assertThat(service("vault-repository-headless").getSpec().getPorts()).singleElement()
                .satisfies(p -> assertThat(p.getPort()).isEqualTo(6162));

        // The pod: transport and guard, field by field.
        StatefulSet sts = statefulSet();
        assertThat(sts.getSpec().getServiceName()).isEqualTo("vault-repository-headless");
        assertThat(sts.getSpec().getVolumeClaimTemplates().get(0).getSpec().getStorageClassName())
                .isEqualTo("xfs-reflink");
        assertThat(sts.getSpec().getVolumeClaimTemplates().get(0).getSpec().getResources().getRequests()
                .get("storage").toString()).isEqualTo("500Gi");
        PodSpec pod = sts.getSpec().getTemplate().getSpec();
        Container transport = container(pod, "transport");
        assertThat(transport.getSecurityContext().getRunAsNonRoot()).isTrue();
        assertThat(transport.getSecurityContext().getRunAsUser()).isNotNull().isNotZero();
        assertThat(transport.getSecurityContext().getPrivileged()).isFalse();
        assertThat(transport.getSecurityContext().getAllowPrivilegeEscalation()).isFalse();
        assertThat(transport.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
        assertThat(transport.getSecurityContext().getCapabilities().getDrop()).containsExactly("ALL");
        assertThat(transport.getSecurityContext().getCapabilities().getAdd()).isNullOrEmpty();
        assertThat(transport.getPorts()).singleElement().satisfies(p -> assertThat(p.getContainerPort())
                .isEqualTo(6162));
        Container guard = container(pod, "guard");
        assertThat(guard.getSecurityContext().getRunAsUser()).isZero();
        assertThat(guard.getSecurityContext().getPrivileged()).isFalse();
        assertThat(guard.getSecurityContext().getAllowPrivilegeEscalation()).isFalse();
        assertThat(guard.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
        assertThat(guard.getSecurityContext().getCapabilities().getDrop()).containsExactly("ALL");
        assertThat(guard.getSecurityContext().getCapabilities().getAdd())
                .containsExactlyInAnyOrder("LINUX_IMMUTABLE", "DAC_OVERRIDE");
        assertThat(guard.getPorts()).isNullOrEmpty();
        assertThat(guard.getArgs()).startsWith("guard").contains("--lock-days=14");
        assertThat(transport.getArgs()).startsWith("serve")
                .contains("--operator-serviceaccount=system:serviceaccount:" + NS + ":blockvault-operator");
        // what the API server stored still parses as the repository jar's commands
        RepositoryStatefulSetArgsTest.parse(transport);
        RepositoryStatefulSetArgsTest.parse(guard);
        assertThat(guard.getVolumeMounts()).noneSatisfy(m -> assertThat(m.getName()).isEqualTo("tls"));

        // Status: the in-cluster endpoint; not ready, as no kubelet runs the pod here.
        eventually().untilAsserted(() -> {
            var status = admin.resources(BackupRepository.class).withName("vault").get().getStatus();
            assertThat(status.endpoint()).isEqualTo("vault-repository." + NS + ".svc:6162");
            assertThat(status.conditions()).anySatisfy(c -> {
                assertThat(c.getType()).isEqualTo("Ready");
                assertThat(c.getStatus()).isEqualTo("False");
                assertThat(c.getReason()).isEqualTo("RepositoryStarting");
                assertThat(c.getMessage()).contains("could not connect to repository vault at vault-repository." + NS
                        + ".svc:6162");
            });
        });

        // A spec change reaches the guard; generated Secrets stay as they are.
        Fixtures.edit(admin, BackupRepository.class, "vault", r -> withImmutabilityDays(r, 30));
        eventually().until(() -> container(statefulSet().getSpec().getTemplate().getSpec(), "guard").getArgs()
                .contains("--lock-days=30"));
        assertThat(secret("vault-repository-ca").getData()).isEqualTo(ca.getData());
        assertThat(secret("vault-repository-tls").getData()).isEqualTo(tls.getData());
        assertThat(secret("vault-repository-encryption-key").getData()).isEqualTo(keys.getData());

        // Deletion removes the deployment and the certificates, never the keys.
        admin.resources(BackupRepository.class).withName("vault").delete();
        eventually().until(() -> statefulSet() == null && service("vault-repository") == null
                && service("vault-repository-headless") == null && secret("vault-repository-ca") == null
                && secret("vault-repository-tls") == null
                && admin.resources(BackupRepository.class).withName("vault").get() == null);
        assertThat(secret("vault-repository-encryption-key").getData()).isEqualTo(keys.getData());
    }

    @Test
    void serverCertificateIsRenewedBeforeItExpiresAndKeysRotateKeepingOldOnes() {
        managed(admin);
        startOperator();
        eventually().until(() -> statefulSet() != null && secret("vault-repository-tls") != null);
        Secret tls = secret("vault-repository-tls");
        Secret ca = secret("vault-repository-ca");
        String podHash = statefulSet().getSpec().getTemplate().getMetadata().getAnnotations()
                .get(RepositoryStatefulSetDependent.TLS_HASH_ANNOTATION);
        eventually().until(() -> secret("vault-repository-encryption-key") != null);
        String idKey = secret("vault-repository-encryption-key").getData().get("id-key");
        assertThat(idKey).isNotNull();

        // Into the renewal window of the server certificate (90 days, renewed 30 before), and past
        // the key rotation (365 days) - the CA (10 years) stays.
        clock.advance(Duration.ofDays(366));
        Fixtures.edit(admin, BackupRepository.class, "vault", r -> withImmutabilityDays(r, 20));

        eventually().until(() -> !secret("vault-repository-tls").getData().equals(tls.getData()));
        X509Certificate renewed = Certificates.parseCertificates(text(secret("vault-repository-tls"), "tls.crt"))
                .get(0);
        X509Certificate caCert = Certificates.parseCertificates(text(ca, "tls.crt")).get(0);
        assertThat(Certificates.signedBy(renewed, caCert)).isTrue();
        assertThat(renewed.getNotAfter().toInstant()).isAfter(clock.instant().plus(Duration.ofDays(60)));
        assertThat(secret("vault-repository-ca").getData()).isEqualTo(ca.getData());
        // The pod template follows the certificate, so the transport restarts with it.
        eventually().until(() -> !podHash.equals(statefulSet().getSpec().getTemplate().getMetadata()
                .getAnnotations().get(RepositoryStatefulSetDependent.TLS_HASH_ANNOTATION)));

        eventually().untilAsserted(() -> {
            Secret keys = secret("vault-repository-encryption-key");
            assertThat(text(keys, "current")).isEqualTo("key-2");
            assertThat(keys.getData()).containsKeys("key-1", "key-2");
            assertThat(keys.getData().get("key-1")).isNotEqualTo(keys.getData().get("key-2"));
            // The id key is never rotated: chunk ids and so deduplication stay across rotations.
            assertThat(keys.getData().get("id-key")).isEqualTo(idKey);
        });
    }

    @Test
    void externalRepositoryIsReadyOnlyWhenConnectedAndRejectsABadBundle() {
        BackupRepository ca = Fixtures.create(admin, BackupRepository.class, """
                apiVersion: blockvault.io/v1alpha1
                kind: BackupRepository
                metadata:
                  name: offsite
                spec:
                  mode: External
                  external:
                    endpoint: backup.example.org:6162
                    caBundle: |
                %s
                """.formatted(Certificates.newCa("test", clock.instant(), Duration.ofDays(1)).certificatePem()
                .indent(6).stripTrailing()));
        externalRepository("broken");
        startOperator();
        eventually().untilAsserted(() -> {
            var status = admin.resources(BackupRepository.class).withName(ca.getMetadata().getName()).get()
                    .getStatus();
            assertThat(status.endpoint()).isEqualTo("backup.example.org:6162");
            // Ready only from a real connection: here the operator has no token file, and says so.
            assertThat(status.conditions()).anySatisfy(c -> {
                assertThat(c.getType()).isEqualTo("Ready");
                assertThat(c.getStatus()).isEqualTo("False");
                assertThat(c.getReason()).isEqualTo("OperatorTokenMissing");
                assertThat(c.getMessage()).contains(access.tokenFile().toString(),
                        "blockvault.operator.repository-token-file");
            });
        });
        eventually().untilAsserted(() -> assertThat(admin.resources(BackupRepository.class).withName("broken").get()
                .getStatus().conditions()).anySatisfy(c -> {
                    assertThat(c.getType()).isEqualTo("Degraded");
                    assertThat(c.getReason()).isEqualTo("InvalidCaBundle");
                    assertThat(c.getMessage()).contains("spec.external.caBundle");
                }));
        assertThat(admin.apps().statefulSets().inNamespace(NS).list().getItems()).isEmpty();

        // The agents of an External repository mount its key Secret too: it exists, kept like a
        // managed one's (no owner), and none of the deployment's Secrets do.
        eventually().until(() -> secret("offsite-repository-encryption-key") != null);
        Secret keys = secret("offsite-repository-encryption-key");
        assertThat(text(keys, "current")).isEqualTo("key-1");
        assertThat(Base64.getDecoder().decode(keys.getData().get("key-1"))).hasSize(32);
        assertThat(Base64.getDecoder().decode(keys.getData().get("id-key"))).hasSize(32);
        assertThat(keys.getMetadata().getOwnerReferences()).isNullOrEmpty();
        assertThat(secret("offsite-repository-ca")).isNull();
        assertThat(secret("offsite-repository-tls")).isNull();
        admin.resources(BackupRepository.class).withName("offsite").delete();
        eventually().until(() -> admin.resources(BackupRepository.class).withName("offsite").get() == null);
        assertThat(secret("offsite-repository-encryption-key").getData()).isEqualTo(keys.getData());
    }

    private Service service(String name) {
        return admin.services().inNamespace(NS).withName(name).get();
    }

    private static Container container(PodSpec pod, String name) {
        return pod.getContainers().stream().filter(c -> c.getName().equals(name)).findFirst().orElseThrow();
    }

    private static BackupRepository withImmutabilityDays(BackupRepository r, int days) {
        var s = r.getSpec();
        r.setSpec(new io.blockvault.api.v1alpha1.BackupRepositorySpec(s.mode(), days, s.managed(), s.external()));
        return r;
    }
}
