package io.blockvault.operator.repository;

import io.blockvault.api.v1alpha1.BackupRepository;
import io.blockvault.api.v1alpha1.RepositoryMode;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.dependent.DependentResource;
import io.javaoperatorsdk.operator.processing.dependent.workflow.Condition;

/**
 * The deployment objects (certificates, Services, StatefulSet) exist only in Managed mode; switching
 * to External removes them. The encryption-key Secret is not among them: it serves both modes.
 */
public class ManagedModeCondition implements Condition<Object, BackupRepository> {

    @Override
    public boolean isMet(DependentResource<Object, BackupRepository> dependentResource, BackupRepository primary,
            Context<BackupRepository> context) {
        return primary.getSpec().mode() == RepositoryMode.Managed;
    }
}
