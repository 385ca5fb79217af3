package io.blockvault.operator.backup;

import io.blockvault.api.v1alpha1.Backup;
import io.blockvault.api.v1alpha1.BackupPhase;
import io.blockvault.api.v1alpha1.BackupStatus;
import io.blockvault.api.v1alpha1.Progress;
import io.blockvault.api.v1alpha1.Restore;
import io.blockvault.api.v1alpha1.RestoreStatus;
import io.blockvault.operator.config.OperatorSettings;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeCondition;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * Whether unfinished work of an agent (a Backup or a Restore) has run out of time, and when to look
 * again. Pure: the node and the time are given. The same limits for both kinds: the node lost for
 * {@code node-lost-grace}, unclaimed for {@code agent-claim-timeout}, no progress for
 * {@code agent-silence-timeout}.
 */
public final class AgentTimeouts {

    public static final String NODE_LOST = "NodeLost";
    public static final String AGENT_SILENT = "AgentSilent";

    private AgentTimeouts() {
    }

    /**
     * What the timeouts look at. {@code nodeName} is null when no node is named (a Restore into a
     * PersistentVolumeClaim): then no agent will claim it and only the claim timeout applies.
     *
     * @param noun "backup" or "restore", for messages
     * @param retry what the user does after a failure, for messages
     */
    public record Work(String noun, String retry, String nodeName, Instant created, BackupPhase phase,
            String startTime, Progress progress) {

        public static Work of(Backup backup) {
            BackupStatus s = backup.getStatus();
            return new Work("backup", "the next scheduled run tries again, or create a new Backup",
                    backup.getSpec().nodeName(), Instant.parse(backup.getMetadata().getCreationTimestamp()),
                    s == null ? null : s.phase(), s == null ? null : s.startTime(), s == null ? null : s.progress());
        }

        public static Work of(Restore restore) {
            RestoreStatus s = restore.getStatus();
            return new Work("restore", "its target may be partly written and must not be used; create a new "
                    + "Restore to write it again", restore.getSpec().target().nodeName(),
                    Instant.parse(restore.getMetadata().getCreationTimestamp()),
                    s == null ? null : s.phase(), s == null ? null : s.startTime(), s == null ? null : s.progress());
        }

        /** Succeeded or Failed: final, whoever wrote it; timeouts never touch it. */
        public boolean finished() {
            return phase == BackupPhase.Succeeded || phase == BackupPhase.Failed;
        }
    }

    /** A timeout: reason for the condition and the status, and the message a user reads. */
    public record Timeout(String reason, String message) {
    }

    /**
     * @param timeout the timeout that has struck, if any
     * @param recheckAfter when to evaluate again if none has; empty for finished work
     */
    public record Verdict(Optional<Timeout> timeout, Optional<Duration> recheckAfter) {
    }

    public static Verdict evaluate(Work work, Optional<Node> node, Instant now, OperatorSettings settings) {
        if (work.finished()) {
            return new Verdict(Optional.empty(), Optional.empty());
        }
        BackupPhase phase = work.phase() == null ? BackupPhase.Pending : work.phase();
        String nodeName = work.nodeName();
        Instant created = work.created();
        Duration recheck = settings.scheduleCheckInterval();

        // Node gone (deleted), or not Ready for longer than the grace period.
        Instant nodeTroubleSince = null;
        String nodeTrouble = null;
        if (nodeName != null && node.isEmpty()) {
            nodeTroubleSince = created;
            nodeTrouble = "Node " + nodeName + " does not exist (deleted, or the name is wrong)";
        } else if (node.isPresent()) {
            Optional<NodeCondition> ready = node.get().getStatus() == null ? Optional.empty()
                    : node.get().getStatus().getConditions().stream().filter(c -> "Ready".equals(c.getType()))
                            .findFirst();
            if (ready.isPresent() && !"True".equals(ready.get().getStatus())
                    && ready.get().getLastTransitionTime() != null) {
                nodeTroubleSince = Instant.parse(ready.get().getLastTransitionTime());
                nodeTrouble = "Node " + nodeName + " has not been Ready since " + nodeTroubleSince;
            }
        }
        if (nodeTroubleSince != null) {
            Instant deadline = max(nodeTroubleSince, created).plus(settings.nodeLostGrace());
            if (!now.isBefore(deadline)) {
                return failed(new Timeout(NODE_LOST, nodeTrouble + "; the " + work.noun() + " cannot run there. "
                        + "It is marked failed; " + work.retry() + "."), recheck);
            }
            recheck = min(recheck, Duration.between(now, deadline));
        }

        if (phase == BackupPhase.Pending) {
            Instant deadline = created.plus(settings.agentClaimTimeout());
            if (!now.isBefore(deadline)) {
                String message = nodeName == null
                        ? "no blockvault agent started this " + work.noun() + " within "
                                + settings.agentClaimTimeout().toSeconds() + "s: without spec.target.nodeName no "
                                + "agent takes it (restoring into a PersistentVolumeClaim is not supported by the "
                                + "agent yet); restore to spec.target.device or spec.target.file of a node instead"
                        : "no blockvault agent on node " + nodeName + " started this " + work.noun() + " within "
                                + settings.agentClaimTimeout().toSeconds() + "s; check the agent pod of that node "
                                + "(kubectl -n " + settings.namespace() + " get pods -l "
                                + "app.kubernetes.io/name=blockvault-agent --field-selector spec.nodeName="
                                + nodeName + ") and its logs";
                return failed(new Timeout(AGENT_SILENT, message), recheck);
            }
            recheck = min(recheck, Duration.between(now, deadline));
        } else if (phase == BackupPhase.Running) {
            Instant lastSign = lastSignOfLife(work);
            Instant deadline = lastSign.plus(settings.agentSilenceTimeout());
            if (!now.isBefore(deadline)) {
                return failed(new Timeout(AGENT_SILENT, "the blockvault agent on node " + nodeName
                        + " has not reported progress since " + lastSign + " (limit "
                        + settings.agentSilenceTimeout().toSeconds() + "s); it probably crashed or the node hangs. "
                        + "Check the agent pod of that node and its logs; " + work.retry()), recheck);
            }
            recheck = min(recheck, Duration.between(now, deadline));
        }
        return new Verdict(Optional.empty(), Optional.of(recheck.isNegative() || recheck.isZero()
                ? Duration.ofMillis(100) : recheck));
    }

    private static Verdict failed(Timeout timeout, Duration recheck) {
        return new Verdict(Optional.of(timeout), Optional.of(recheck));
    }

    private static Instant lastSignOfLife(Work work) {
        Instant last = work.created();
        if (work.startTime() != null) {
            last = max(last, Instant.parse(work.startTime()));
        }
        if (work.progress() != null && work.progress().updateTime() != null) {
            last = max(last, Instant.parse(work.progress().updateTime()));
        }
        return last;
    }

    private static Instant max(Instant a, Instant b) {
        return a.isAfter(b) ? a : b;
    }

    private static Duration min(Duration a, Duration b) {
        return a.compareTo(b) <= 0 ? a : b;
    }
}
