package io.blockvault.operator;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * What {@code helm uninstall} runs before it deletes the release (the chart's pre-delete hook):
 * stops the operator, then deletes the agent DaemonSet and repository StatefulSets it made, and waits
 * for their pods to end. Without it those privileged pods would run on, unmanaged, under a
 * ServiceAccount the uninstall deletes. The custom resources, Secrets (the encryption key among
 * them), PersistentVolumeClaims and the repository's files stay: a later install runs the workloads again.
 *
 * <p>The operator is stopped first because it would recreate what is deleted here.
 */
public final class WorkloadRemoval {

    private final KubernetesClient client;
    private final String namespace;
    private final Duration timeout;
    private final PrintStream out;

    public WorkloadRemoval(KubernetesClient client, String namespace, Duration timeout, PrintStream out) {
        this.client = client;
        this.namespace = namespace;
        this.timeout = timeout;
        this.out = out;
    }

    /** Scales {@code operatorDeployment} to zero, deletes the operator's workloads; throws on a timeout. */
    public void run(String operatorDeployment) throws InterruptedException {
        stopOperator(operatorDeployment);
        List<HasMetadata> workloads = new ArrayList<>();
        workloads.addAll(client.apps().daemonSets().inNamespace(namespace)
                .withLabel(Labels.MANAGED_BY, Labels.MANAGED_BY_VALUE).list().getItems());
        workloads.addAll(client.apps().statefulSets().inNamespace(namespace)
                .withLabel(Labels.MANAGED_BY, Labels.MANAGED_BY_VALUE).list().getItems());
        for (HasMetadata workload : workloads) {
            client.resource(workload).delete();
            out.println("deleted " + workload.getKind() + " " + namespace + "/" + workload.getMetadata().getName());
        }
        // The pod templates carry the same label; the devices are free once they are gone.
        awaitNoPods(Map.of(Labels.MANAGED_BY, Labels.MANAGED_BY_VALUE), "the agent and repository pods");
        out.println("kept: the blockvault.io objects, Secrets (the repository's encryption key among them), "
                + "PersistentVolumeClaims and every backup; installing the chart again runs the workloads again");
    }

    private void stopOperator(String name) throws InterruptedException {
        Deployment deployment = client.apps().deployments().inNamespace(namespace).withName(name).get();
        if (deployment == null) {
            out.println("no Deployment " + namespace + "/" + name + ": the operator is not running");
            return;
        }
        client.apps().deployments().inNamespace(namespace).withName(name).patch(
                PatchContext.of(PatchType.JSON_MERGE), "{\"spec\":{\"replicas\":0}}");
        out.println("scaled Deployment " + namespace + "/" + name + " to 0 replicas");
        awaitNoPods(deployment.getSpec().getSelector().getMatchLabels(), "the operator's pods");
    }

    /** Watches the pods of {@code selector} until none is left; throws after the timeout. */
    private void awaitNoPods(Map<String, String> selector, String what) throws InterruptedException {
        try {
            client.pods().inNamespace(namespace).withLabels(selector).informOnCondition(List::isEmpty)
                    .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            out.println(what + ": none left");
        } catch (TimeoutException e) {
            throw new IllegalStateException(what + " still run after " + timeout.toSeconds() + " s: "
                    + client.pods().inNamespace(namespace).withLabels(selector).list().getItems().stream()
                            .map(p -> p.getMetadata().getName()).toList());
        } catch (ExecutionException e) {
            throw new IllegalStateException("watching " + what + " failed: " + e.getCause().getMessage(), e);
        }
    }

    /**
     * {@code blockvault-operator --remove-workloads --operator-deployment NAME}: in the namespace of the
     * pod's ServiceAccount (or the kubeconfig's). Returns the exit code.
     */
    static int main(List<String> args, KubernetesClient client, PrintStream out, PrintStream err) {
        int at = args.indexOf("--operator-deployment");
        if (at < 0 || at + 1 >= args.size()) {
            err.println("--remove-workloads needs --operator-deployment NAME (the operator's Deployment, "
                    + "scaled to 0 first so that it does not recreate what is deleted)");
            return 2;
        }
        try {
            new WorkloadRemoval(client, client.getNamespace(), Duration.ofSeconds(150), out).run(args.get(at + 1));
            return 0;
        } catch (KubernetesClientException | IllegalStateException e) {
            err.println("removing blockvault's workloads failed: " + e.getMessage());
            return 1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 1;
        }
    }
}
