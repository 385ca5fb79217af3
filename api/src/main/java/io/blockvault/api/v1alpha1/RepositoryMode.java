package io.blockvault.api.v1alpha1;

/** Who runs the repository. */
public enum RepositoryMode {
    /** The operator deploys and manages the repository StatefulSet. */
    Managed,
    /** The repository runs outside the cluster (or is managed by someone else); we only connect. */
    External
}
