package io.blockvault.repository.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.blockvault.repository.TestData;
import io.blockvault.repository.client.RepositoryException;
import io.blockvault.repository.client.RepositoryException.Reason;
import io.blockvault.repository.client.TransportClient;
import io.blockvault.repository.store.RepositoryLayout;
import io.blockvault.repository.store.RepositoryStore;
import io.blockvault.repository.store.StoreLimits;
import io.blockvault.repository.transport.TestTls;
import io.blockvault.repository.transport.TokenReviewAuthenticator;
import io.blockvault.repository.transport.Tls;
import io.blockvault.repository.transport.TransportConfig;
import io.blockvault.repository.transport.TransportServer;
import io.blockvault.testing.ProjectPaths;
import io.blockvault.testing.KubeApiServer;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.authentication.BoundObjectReference;
import io.fabric8.kubernetes.api.model.authentication.TokenRequest;
import io.fabric8.kubernetes.api.model.authentication.TokenRequestBuilder;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBindingBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.net.InetAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** ServiceAccount tokens checked by TokenReview against a real kube-apiserver. */
class TokenReviewIT {

    static final String NS = "blockvault-system";
    static final String AUDIENCE = "blockvault-repository";

    @TempDir
    static Path dir;
    static KubernetesClient k8s;
    static TransportServer server;
    static SSLContext clientTls;
    static Pod agentPod;

    @BeforeAll
    static void start() throws Exception {
        k8s = KubeApiServer.shared().client();
        k8s.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(NS).endMetadata().build())
                .createOr(r -> r.update());
        for (String sa : List.of("blockvault-agent", "blockvault-operator", "blockvault-repository", "someone-else")) {
            k8s.serviceAccounts().inNamespace(NS).resource(new ServiceAccountBuilder().withNewMetadata().withName(sa)
                    .endMetadata().build()).createOr(r -> r.update());
        }
        k8s.rbac().clusterRoleBindings().resource(new ClusterRoleBindingBuilder().withNewMetadata()
                .withName("blockvault-repository-auth-delegator").endMetadata().withNewRoleRef()
                .withApiGroup("rbac.authorization.k8s.io").withKind("ClusterRole").withName("system:auth-delegator")
                .endRoleRef().addNewSubject().withKind("ServiceAccount").withName("blockvault-repository")
                .withNamespace(NS).endSubject().build()).createOr(r -> r.update());
        k8s.nodes().resource(new NodeBuilder().withNewMetadata().withName("worker-1").endMetadata().build())
                .createOr(r -> r.update());
        agentPod = k8s.pods().inNamespace(NS).resource(new PodBuilder().withNewMetadata().withName("agent-worker-1")
                .endMetadata().withNewSpec().withNodeName("worker-1").withServiceAccountName("blockvault-agent")
                .withAutomountServiceAccountToken(false).addNewContainer().withName("agent").withImage("agent:test")
                .endContainer().endSpec().build()).createOr(r -> r.update());

        Path credentials = dir.resolve("repository-token");
        Files.writeString(credentials, token("blockvault-repository", null, false));
        Path ca = dir.resolve("apiserver-ca.crt");
        String caData = k8s.getConfiguration().getCaCertData();
        if (caData != null) {
            Files.write(ca, Base64.getDecoder().decode(caData));
        } else {
            Files.copy(Path.of(k8s.getConfiguration().getCaCertFile()), ca);
        }
        TestTls tls = TestTls.create(dir.resolve("tls"));
        RepositoryStore store = new RepositoryStore(new RepositoryLayout(dir.resolve("repo")), new StoreLimits(
                Long.MAX_VALUE, 100, 0, 3600_000));
        store.open();
        TokenReviewAuthenticator auth = new TokenReviewAuthenticator(URI.create(k8s.getMasterUrl().toString()),
                Tls.client(ca), credentials, AUDIENCE, "system:serviceaccount:" + NS + ":blockvault-agent",
                "system:serviceaccount:" + NS + ":blockvault-operator");
        server = new TransportServer(TransportConfig.defaults(InetAddress.getLoopbackAddress(), 0),
                Tls.server(tls.serverCert(), tls.serverKey()), auth, store, System.getLogger("tokenreview-it"));
        server.start();
        clientTls = Tls.client(tls.caCert());
    }

    @AfterAll
    static void stop() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    /** A TokenRequest for a ServiceAccount, for {@code audience} (null: the API server's), bound to the agent pod. */
    static String token(String serviceAccount, String audience, boolean boundToPod) {
        TokenRequestBuilder b = new TokenRequestBuilder();
        var spec = b.withNewSpec().withExpirationSeconds(600L);
        if (audience != null) {
            spec.withAudiences(audience);
        }
        if (boundToPod) {
            spec.withBoundObjectRef(new BoundObjectReference("v1", "Pod", agentPod.getMetadata().getName(),
                    agentPod.getMetadata().getUid()));
        }
        TokenRequest req = spec.endSpec().build();
        return k8s.serviceAccounts().inNamespace(NS).withName(serviceAccount).tokenRequest(req).getStatus().getToken();
    }

    static TransportClient connect(String token) throws Exception {
        return TransportClient.connect(new TransportClient.Endpoint("127.0.0.1", server.port(), clientTls, token));
    }

    @Test
    void anAgentTokenForOurAudienceBoundToAPodIsThatPodsNode() throws Exception {
        try (TransportClient c = connect(token("blockvault-agent", AUDIENCE, true))) {
            assertThat(c.identity()).isEqualTo("node:worker-1");
            Path img = TestData.image(dir.resolve("img"), 3, TestData.CHUNK, 1, 0);
            TestData.backup(c, TestData.codec(false), "worker-1", "p1", img, Optional.empty(), Optional.empty());
            assertThat(c.listPoints(Optional.of("worker-1"))).hasSize(1);
            assertThatThrownBy(() -> c.listPoints(Optional.of("worker-2"))).hasMessageContaining("may not");
        }
    }

    @Test
    void theOperatorTokenIsTheOperator() throws Exception {
        try (TransportClient c = connect(token("blockvault-operator", AUDIENCE, false))) {
            assertThat(c.identity()).startsWith("operator:");
            assertThat(c.listPoints(Optional.empty())).isNotNull();
        }
    }

    @Test
    void tokensForAnotherAudienceOrAnotherAccountOrNoPodAreRefused() throws Exception {
        assertThatThrownBy(() -> connect(token("blockvault-agent", "some-other-service", true)))
                .isInstanceOf(RepositoryException.class).hasMessageContaining("rejected the token")
                .extracting(e -> ((RepositoryException) e).reason()).isEqualTo(Reason.UNAUTHENTICATED);
        assertThatThrownBy(() -> connect(token("blockvault-agent", null, true)))
                .isInstanceOf(RepositoryException.class).hasMessageContaining("rejected the token");
        assertThatThrownBy(() -> connect(token("someone-else", AUDIENCE, false)))
                .isInstanceOf(RepositoryException.class).hasMessageContaining("neither")
                .extracting(e -> ((RepositoryException) e).reason()).isEqualTo(Reason.FORBIDDEN);
        assertThatThrownBy(() -> connect(token("blockvault-agent", AUDIENCE, false)))
                .isInstanceOf(RepositoryException.class).hasMessageContaining("not bound to a pod");
        assertThatThrownBy(() -> connect("eyJhbGciOiJSUzI1NiJ9.garbage.garbage"))
                .isInstanceOf(RepositoryException.class).hasMessageContaining("rejected the token");
        try (TransportClient c = connect(token("blockvault-operator", AUDIENCE, false))) {
            assertThat(c.identity()).startsWith("operator:");
        }
    }
}
