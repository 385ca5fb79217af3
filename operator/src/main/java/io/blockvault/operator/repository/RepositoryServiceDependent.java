package io.blockvault.operator.repository;

import io.blockvault.api.v1alpha1.BackupRepository;
import io.blockvault.operator.OwnedDependentResource;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.javaoperatorsdk.operator.api.config.informer.Informer;
import io.javaoperatorsdk.operator.api.reconciler.Constants;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.KubernetesDependent;

/** The client Service of the transport: what agents connect to (port 6162, TLS). */
@KubernetesDependent(informer = @Informer(namespaces = Constants.WATCH_CURRENT_NAMESPACE, labelSelector = RepositoryDependents.SELECTOR))
public class RepositoryServiceDependent extends OwnedDependentResource<Service, BackupRepository> {

    public RepositoryServiceDependent() {
        super(Service.class);
    }

    @Override
    protected Service desired(BackupRepository repository, Context<BackupRepository> context) {
        return build(repository, RepositoryDependents.names(repository, context), false);
    }

    static Service build(BackupRepository repository, RepositoryNames names, boolean headless) {
        return new ServiceBuilder()
                .withNewMetadata().withName(headless ? names.headlessService() : names.clientService())
                .withNamespace(names.namespace())
                .withLabels(RepositoryDependents.labels(repository, headless ? "headless-service" : "service"))
                .endMetadata()
                .withNewSpec()
                .withType("ClusterIP")
                .withClusterIP(headless ? "None" : null)
                // The StatefulSet's pod DNS must resolve before the pod is ready (its own readiness needs it).
                .withPublishNotReadyAddresses(headless ? Boolean.TRUE : null)
                .withSelector(RepositoryDependents.selector(repository))
                .addNewPort().withName("transport").withProtocol("TCP").withPort(RepositoryNames.PORT)
                .withNewTargetPort("transport").endPort()
                .endSpec()
                .build();
    }
}
