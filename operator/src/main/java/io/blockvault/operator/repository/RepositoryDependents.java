package io.blockvault.operator.repository;

import io.blockvault.api.v1alpha1.BackupRepository;
import io.blockvault.operator.Labels;
import io.blockvault.operator.config.OperatorSettings;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import java.time.Clock;
import java.util.Map;

/** What every dependent of a repository needs: its names, labels, the settings and the clock. */
final class RepositoryDependents {

    private RepositoryDependents() {
    }

    static OperatorSettings settings(Context<BackupRepository> context) {
        return context.managedWorkflowAndDependentResourceContext().getMandatory(OperatorSettings.class,
                OperatorSettings.class);
    }

    static Clock clock(Context<BackupRepository> context) {
        return context.managedWorkflowAndDependentResourceContext().getMandatory(Clock.class, Clock.class);
    }

    static RepositoryNames names(BackupRepository repository, Context<BackupRepository> context) {
        return new RepositoryNames(repository.getMetadata().getName(), settings(context).namespace());
    }

    static Map<String, String> labels(BackupRepository repository, String component) {
        Map<String, String> labels = Labels.of(RepositoryNames.APP, repository.getMetadata().getName(), component);
        labels.put(Labels.REPOSITORY, Labels.value(repository.getMetadata().getName()));
        return labels;
    }

    static Map<String, String> selector(BackupRepository repository) {
        return Map.of(Labels.NAME, RepositoryNames.APP, Labels.INSTANCE,
                Labels.value(repository.getMetadata().getName()));
    }

    static final String SELECTOR = Labels.MANAGED_BY + "=" + Labels.MANAGED_BY_VALUE + "," + Labels.NAME + "="
            + RepositoryNames.APP;
}
