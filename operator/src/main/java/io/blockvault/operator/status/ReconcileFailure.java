package io.blockvault.operator.status;

import io.fabric8.kubernetes.client.KubernetesClientException;
import io.javaoperatorsdk.operator.AggregatedOperatorException;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Optional;

/**
 * Why a reconcile threw, as a condition's reason and message: {@code Forbidden} when the API server
 * refused the operator a request (its own words name the verb and resource), else
 * {@code ReconcileFailed}. A dependent's failure arrives wrapped (JOSDK aggregates a workflow's
 * errors), so the causes are searched.
 */
public record ReconcileFailure(String reason, String message) {

    /** The operator lacks an RBAC rule; {@code helm upgrade} puts back the chart's. */
    public static final String FORBIDDEN = "Forbidden";
    /** Any other exception of a reconcile; it is retried. */
    public static final String RECONCILE_FAILED = "ReconcileFailed";

    public static ReconcileFailure of(Exception e) {
        return forbidden(e).map(k -> new ReconcileFailure(FORBIDDEN, "the API server refused the operator: "
                + apiMessage(k) + "; its ClusterRole or Role lacks that rule (helm upgrade puts back the chart's "
                + "rules)")).orElseGet(() -> new ReconcileFailure(RECONCILE_FAILED,
                        "reconcile failed, retrying: " + e.getMessage()));
    }

    /** {@code conditions} with Ready False and Degraded True for this failure. */
    public Conditions applyTo(Conditions conditions) {
        return conditions.set(Conditions.READY, false, reason, message).set(Conditions.DEGRADED, true, reason, message);
    }

    private static Optional<KubernetesClientException> forbidden(Throwable e) {
        Deque<Throwable> todo = new ArrayDeque<>();
        todo.add(e);
        for (int seen = 0; !todo.isEmpty() && seen < 32; seen++) {
            Throwable t = todo.poll();
            if (t instanceof KubernetesClientException k && k.getCode() == 403) {
                return Optional.of(k);
            }
            if (t instanceof AggregatedOperatorException a) {
                todo.addAll(a.getAggregatedExceptions().values());
            }
            if (t.getCause() != null && t.getCause() != t) {
                todo.add(t.getCause());
            }
        }
        return Optional.empty();
    }

    /** The API server's own words (which verb on which resource), without the request's URL. */
    private static String apiMessage(KubernetesClientException e) {
        return e.getStatus() != null && e.getStatus().getMessage() != null ? e.getStatus().getMessage()
                : e.getMessage();
    }
}
