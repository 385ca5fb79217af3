package io.blockvault.operator.repository;

import io.blockvault.api.v1alpha1.BackupRepository;
import io.blockvault.api.v1alpha1.RepositoryMode;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.dependent.DependentResource;
import io.javaoperatorsdk.operator.processing.dependent.workflow.Condition;

/** The repository's objects exist only in Managed mode; switching to External removes them. */
public class ManagedModeCondition implements Condition<Object, BackupRepository> {

    @Override
    public boolean isMet(DependentResource<Object, BackupRepository> dependentResource, BackupRepository primary,
            Context<BackupRepository> context) {
        return primary.getSpec().mode() == RepositoryMode.Managed;
    }
}
