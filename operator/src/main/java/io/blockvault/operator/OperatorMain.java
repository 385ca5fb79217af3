package io.blockvault.operator;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.javaoperatorsdk.operator.Operator;
import io.quarkus.runtime.Quarkus;
import io.quarkus.runtime.QuarkusApplication;
import io.quarkus.runtime.annotations.QuarkusMain;
import jakarta.inject.Inject;
import java.io.PrintStream;
import java.util.Arrays;

/**
 * Starts the operator. {@code --help} and {@code --version} answer without starting Quarkus, so
 * they work on a machine with no cluster; {@code --remove-workloads} (the chart's uninstall hook)
 * runs without it too.
 */
@QuarkusMain
public class OperatorMain implements QuarkusApplication {

    private final Operator operator;

    /**
     * QOSDK starts the operator by itself only when the application has no {@link QuarkusApplication}
     * of its own; this one has (for --help and --version), so it starts the operator here.
     */
    @Inject
    public OperatorMain(Operator operator) {
        this.operator = operator;
    }

    public static void main(String... args) {
        if (Arrays.asList(args).contains("--help") || Arrays.asList(args).contains("-h")) {
            usage(System.out);
            return;
        }
        if (Arrays.asList(args).contains("--version")) {
            System.out.println("blockvault-operator " + version());
            return;
        }
        if (args.length > 0 && args[0].equals("--remove-workloads")) {
            try (KubernetesClient client = new KubernetesClientBuilder().build()) {
                System.exit(WorkloadRemoval.main(Arrays.asList(args), client, System.out, System.err));
            }
        }
        if (args.length > 0) {
            System.err.println("unknown argument " + args[0] + "; the operator takes no arguments but "
                    + "--remove-workloads (see --help)");
            System.exit(2);
        }
        Quarkus.run(OperatorMain.class, args);
    }

    @Override
    public int run(String... args) {
        // With leader election on (the prod profile), this waits for the Lease before reconciling.
        operator.start();
        Quarkus.waitForExit();
        operator.stop();
        return 0;
    }

    static void usage(PrintStream out) {
        out.println("""
                Usage: blockvault-operator [--help] [--version]
                       blockvault-operator --remove-workloads --operator-deployment NAME

                The blockvault operator: reconciles BackupRepository, BackupPolicy, Backup and Restore
                objects (group blockvault.io) in the cluster its kubeconfig or service account reaches.

                --remove-workloads (what helm uninstall runs first) scales the operator's Deployment
                NAME to 0, deletes the agent DaemonSet and repository StatefulSets it made in its
                namespace and waits for their pods to end. Custom resources, Secrets, volumes and
                backups stay.

                It is configured through Quarkus configuration keys, each also an environment variable:
                  blockvault.operator.*          operator settings (QUARKUS style: BLOCKVAULT_OPERATOR_...)
                  quarkus.kubernetes-client.*    how to reach the API server
                  quarkus.http.port              metrics (/q/metrics) and health (/q/health) port

                Exit codes: 0 on a clean stop, 1 on failure, 2 on a usage error.""");
    }

    private static String version() {
        String v = OperatorMain.class.getPackage().getImplementationVersion();
        return v == null ? "dev" : v;
    }
}
