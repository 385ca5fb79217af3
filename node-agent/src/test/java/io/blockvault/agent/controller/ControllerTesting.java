package io.blockvault.agent.controller;

import static org.awaitility.Awaitility.await;

import io.blockvault.agent.testing.LoopDevice;
import io.blockvault.api.v1alpha1.BackupPhase;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.function.Function;

/** What the controller ITs share: cleaning up, filled loop devices, waiting for a phase, the agent's condition. */
final class ControllerTesting {

    private ControllerTesting() {
    }

    /** Closes in reverse order (controllers may still read the devices made before them), all of them. */
    static void closeAll(List<AutoCloseable> cleanup) {
        for (int i = cleanup.size() - 1; i >= 0; i--) {
            try {
                cleanup.get(i).close();
            } catch (Exception e) {
                // keep cleaning
            }
        }
    }

    /** A loop device of {@code size} bytes filled with random data of {@code seed}; closed by {@link #closeAll}. */
    static LoopDevice filledLoop(Path file, long size, long seed, List<AutoCloseable> cleanup) throws Exception {
        LoopDevice d = LoopDevice.create(file, size);
        cleanup.add(d);
        byte[] data = new byte[(int) size];
        new Random(seed).nextBytes(data);
        d.write(0, data);
        return d;
    }

    /** The object once the API server reports {@code phase} for it. */
    static <R extends HasMetadata> R awaitPhase(KubernetesClient client, Class<R> kind, String name,
            Function<R, BackupPhase> phaseOf, BackupPhase phase) {
        await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(200)).until(() -> {
            R r = client.resources(kind).withName(name).get();
            return r != null && phaseOf.apply(r) == phase;
        });
        return client.resources(kind).withName(name).get();
    }

    static Condition agentCondition(List<Condition> conditions) {
        return conditions.stream().filter(c -> StatusWriter.CONDITION.equals(c.getType())).findFirst().orElseThrow();
    }
}
