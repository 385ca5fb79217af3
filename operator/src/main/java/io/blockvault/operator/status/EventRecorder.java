package io.blockvault.operator.status;

import io.blockvault.operator.Labels;
import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.time.Instant;
import org.jboss.logging.Logger;

/**
 * Writes core/v1 Events about our cluster-scoped objects (into the {@code default} namespace, where
 * {@code kubectl describe} looks for them). An event's name is derived from the object, the reason
 * and a key the caller chooses, so recording the same transition twice (a retried reconcile, an
 * operator restart) creates it once.
 */
public final class EventRecorder {

    private static final Logger LOG = Logger.getLogger(EventRecorder.class);
    private static final String EVENT_NAMESPACE = "default";

    private final KubernetesClient client;

    public EventRecorder(KubernetesClient client) {
        this.client = client;
    }

    public void normal(HasMetadata object, String reason, String key, String message, Instant now) {
        record(object, "Normal", reason, key, message, now);
    }

    public void warning(HasMetadata object, String reason, String key, String message, Instant now) {
        record(object, "Warning", reason, key, message, now);
    }

    private void record(HasMetadata object, String type, String reason, String key, String message, Instant now) {
        String name = object.getMetadata().getName() + "." + Labels.hash(object.getKind() + "/"
                + object.getMetadata().getUid() + "/" + reason + "/" + key, 16);
        if (name.length() > 253) {
            name = name.substring(name.length() - 253).replaceAll("^[^a-z0-9]+", "");
        }
        var event = new EventBuilder()
                .withNewMetadata().withName(name).withNamespace(EVENT_NAMESPACE).endMetadata()
                .withNewInvolvedObject().withApiVersion(object.getApiVersion()).withKind(object.getKind())
                .withName(object.getMetadata().getName()).withUid(object.getMetadata().getUid())
                .withResourceVersion(object.getMetadata().getResourceVersion()).endInvolvedObject()
                .withType(type).withReason(reason).withMessage(message)
                .withFirstTimestamp(now.toString()).withLastTimestamp(now.toString()).withCount(1)
                .withNewSource().withComponent(Labels.MANAGED_BY_VALUE).endSource()
                .build();
        try {
            client.v1().events().inNamespace(EVENT_NAMESPACE).resource(event).create();
        } catch (KubernetesClientException e) {
            if (e.getCode() != 409) {
                // Events are best effort: a failure to record one must not fail the reconcile.
                LOG.warnf("could not record event %s on %s %s: %s", reason, object.getKind(),
                        object.getMetadata().getName(), e.getMessage());
            }
        }
    }
}
