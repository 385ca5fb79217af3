package io.blockvault.operator.repository;

import io.blockvault.api.v1alpha1.BackupRepository;
import io.blockvault.operator.OwnedDependentResource;
import io.fabric8.kubernetes.api.model.Service;
import io.javaoperatorsdk.operator.api.config.informer.Informer;
import io.javaoperatorsdk.operator.api.reconciler.Constants;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.KubernetesDependent;

/** The headless Service that gives the StatefulSet's pod its stable DNS name. */
@KubernetesDependent(informer = @Informer(namespaces = Constants.WATCH_CURRENT_NAMESPACE, labelSelector = RepositoryDependents.SELECTOR))
public class RepositoryHeadlessServiceDependent
        extends OwnedDependentResource<Service, BackupRepository> {

    public RepositoryHeadlessServiceDependent() {
        super(Service.class);
    }

    @Override
    protected Service desired(BackupRepository repository, Context<BackupRepository> context) {
        return RepositoryServiceDependent.build(repository, RepositoryDependents.names(repository, context), true);
    }
}
