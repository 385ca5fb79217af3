package io.blockvault.operator;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.processing.dependent.kubernetes.CRUDNoGCKubernetesDependentResource;
import io.javaoperatorsdk.operator.processing.event.source.SecondaryToPrimaryMapper;
import io.javaoperatorsdk.operator.processing.event.source.informer.Mappers;
import java.util.Optional;

/**
 * A namespaced object owned by one of our cluster-scoped resources, deleted explicitly on cleanup
 * (no garbage collector is guaranteed to run: tests, or a GC lagging behind) and also carrying an
 * owner reference (so a cluster's garbage collector removes it too, and {@code kubectl} shows who
 * owns it). JOSDK maps owner references back to the primary only for garbage-collected dependents,
 * so this class says how: by owner reference, cluster-scoped owner.
 *
 * <p>Subclasses watch with {@code @Informer(namespaces = Constants.WATCH_CURRENT_NAMESPACE)}: the
 * namespace of the operator's client (in a pod: the pod's), where all our dependents live. That keeps
 * the operator's RBAC for them a Role in its own namespace: it can read no Secret elsewhere.
 */
public abstract class OwnedDependentResource<R extends HasMetadata, P extends HasMetadata>
        extends CRUDNoGCKubernetesDependentResource<R, P> {

    protected OwnedDependentResource(Class<R> resourceType) {
        super(resourceType);
    }

    @Override
    protected boolean addOwnerReference() {
        return true;
    }

    @Override
    protected Optional<SecondaryToPrimaryMapper<R>> getSecondaryToPrimaryMapper(EventSourceContext<P> context) {
        return Optional.of(Mappers.fromOwnerReferences(context.getPrimaryResourceClass(), true));
    }
}
