package io.blockvault.operator.backup;

import io.blockvault.api.v1alpha1.Backup;
import io.blockvault.api.v1alpha1.BackupPhase;
import io.blockvault.api.v1alpha1.BackupStatus;
import io.blockvault.operator.config.OperatorSettings;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeCondition;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * Whether an unfinished Backup has run out of time, and when to look again. Pure: the node and
 * the time are given.
 */
public final class BackupTimeouts {

    public static final String NODE_LOST = "NodeLost";
    public static final String AGENT_SILENT = "AgentSilent";

    private BackupTimeouts() {
    }

    /** A timeout: reason for the condition and the status, and the message a user reads. */
    public record Timeout(String reason, String message) {
    }

    /**
     * @param timeout the timeout that has struck, if any
     * @param recheckAfter when to evaluate again if none has
     */
    public record Verdict(Optional<Timeout> timeout, Duration recheckAfter) {
    }

    public static Verdict evaluate(Backup backup, Optional<Node> node, Instant now, OperatorSettings settings) {
        BackupStatus status = backup.getStatus();
        BackupPhase phase = status == null || status.phase() == null ? BackupPhase.Pending : status.phase();
        String nodeName = backup.getSpec().nodeName();
        Instant created = Instant.parse(backup.getMetadata().getCreationTimestamp());
        Duration recheck = settings.scheduleCheckInterval();

        // Node gone (deleted), or not Ready for longer than the grace period.
        Instant nodeTroubleSince = null;
        String nodeTrouble = null;
        if (node.isEmpty()) {
            nodeTroubleSince = created;
            nodeTrouble = "Node " + nodeName + " does not exist (deleted, or the name is wrong)";
        } else {
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
                return new Verdict(Optional.of(new Timeout(NODE_LOST, nodeTrouble + "; the backup cannot run there."
                        + " It is marked failed; the next scheduled run tries again, or create a new Backup.")),
                        recheck);
            }
            recheck = min(recheck, Duration.between(now, deadline));
        }

        if (phase == BackupPhase.Pending) {
            Instant deadline = created.plus(settings.agentClaimTimeout());
            if (!now.isBefore(deadline)) {
                return new Verdict(Optional.of(new Timeout(AGENT_SILENT, "no blockvault agent on node " + nodeName
                        + " started this backup within " + settings.agentClaimTimeout().toSeconds() + "s; check the "
                        + "agent pod of that node (kubectl -n " + settings.namespace()
                        + " get pods -l app.kubernetes.io/name=blockvault-agent --field-selector spec.nodeName="
                        + nodeName + ") and its logs")), recheck);
            }
            recheck = min(recheck, Duration.between(now, deadline));
        } else if (phase == BackupPhase.Running) {
            Instant lastSign = lastSignOfLife(status, created);
            Instant deadline = lastSign.plus(settings.agentSilenceTimeout());
            if (!now.isBefore(deadline)) {
                return new Verdict(Optional.of(new Timeout(AGENT_SILENT, "the blockvault agent on node " + nodeName
                        + " has not reported progress since " + lastSign + " (limit "
                        + settings.agentSilenceTimeout().toSeconds() + "s); it probably crashed or the node hangs. "
                        + "Check the agent pod of that node and its logs")), recheck);
            }
            recheck = min(recheck, Duration.between(now, deadline));
        }
        return new Verdict(Optional.empty(), recheck.isNegative() || recheck.isZero() ? Duration.ofMillis(100)
                : recheck);
    }

    private static Instant lastSignOfLife(BackupStatus status, Instant created) {
        Instant last = created;
        if (status.startTime() != null) {
            last = max(last, Instant.parse(status.startTime()));
        }
        if (status.progress() != null && status.progress().updateTime() != null) {
            last = max(last, Instant.parse(status.progress().updateTime()));
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
