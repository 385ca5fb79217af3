package io.blockvault.operator.config;

import java.time.Duration;
import java.util.Objects;

/**
 * Everything the reconcilers read from configuration, as one immutable value. Quarkus builds it
 * from {@link OperatorConfig} ({@code blockvault.operator.*}); tests build it directly.
 *
 * @param namespace where the agent DaemonSets and repository StatefulSets live (the operator's own namespace)
 * @param agentImage image of the node agent container
 * @param dkmsImage image of the init container that builds and loads the kernel modules with DKMS
 * @param repositoryImage image of the repository (transport and guard containers)
 * @param agentServiceAccount ServiceAccount of the agent pods (bound by the Helm chart)
 * @param repositoryServiceAccount ServiceAccount of managed repository pods (allowed TokenReviews by the Helm chart)
 * @param operatorServiceAccount the operator's own ServiceAccount, which managed repositories take as the operator
 * @param scheduleCheckInterval longest wait between two looks at a policy's schedule; bounds how late
 *     a tick can be noticed after a clock jump or a missed event
 * @param agentClaimTimeout a Backup nobody started within this time fails with {@code AgentSilent}
 * @param agentSilenceTimeout a running Backup whose progress was not updated within this time fails
 *     with {@code AgentSilent}
 * @param nodeLostGrace a Backup whose Node object has been gone this long fails with {@code NodeLost}
 * @param caValidity validity of a generated repository CA
 * @param serverCertValidity validity of a generated repository server certificate
 * @param certRenewBefore a certificate (CA or server) is replaced when it expires within this time
 * @param encryptionKeyRotation age after which a repository encryption key gets a successor; zero never
 */
public record OperatorSettings(
        String namespace,
        String agentImage,
        String dkmsImage,
        String repositoryImage,
        String agentServiceAccount,
        String repositoryServiceAccount,
        String operatorServiceAccount,
        Duration scheduleCheckInterval,
        Duration agentClaimTimeout,
        Duration agentSilenceTimeout,
        Duration nodeLostGrace,
        Duration caValidity,
        Duration serverCertValidity,
        Duration certRenewBefore,
        Duration encryptionKeyRotation) {

    public OperatorSettings {
        Objects.requireNonNull(namespace, "namespace");
        Objects.requireNonNull(agentImage, "agentImage");
        Objects.requireNonNull(dkmsImage, "dkmsImage");
        Objects.requireNonNull(repositoryImage, "repositoryImage");
        Objects.requireNonNull(agentServiceAccount, "agentServiceAccount");
        Objects.requireNonNull(repositoryServiceAccount, "repositoryServiceAccount");
        Objects.requireNonNull(operatorServiceAccount, "operatorServiceAccount");
        if (scheduleCheckInterval.isZero() || scheduleCheckInterval.isNegative()) {
            throw new IllegalArgumentException("blockvault.operator.schedule-check-interval must be positive, was "
                    + scheduleCheckInterval);
        }
        if (certRenewBefore.compareTo(serverCertValidity) >= 0) {
            throw new IllegalArgumentException("blockvault.operator.cert-renew-before (" + certRenewBefore
                    + ") must be shorter than blockvault.operator.server-cert-validity (" + serverCertValidity
                    + "), or every reconcile would issue a new certificate");
        }
    }

    /** The defaults of {@code application.properties}, for tests and tools. */
    public static OperatorSettings defaults(String namespace) {
        return new OperatorSettings(namespace, "ghcr.io/blockvault/node-agent:0.1.0",
                "ghcr.io/blockvault/node-agent:0.1.0", "ghcr.io/blockvault/repository:0.1.0", "blockvault-agent",
                "blockvault-repository", "blockvault-operator",
                Duration.ofSeconds(60), Duration.ofMinutes(10), Duration.ofMinutes(10), Duration.ofMinutes(2),
                Duration.ofDays(3650), Duration.ofDays(90), Duration.ofDays(30), Duration.ofDays(365));
    }

    public OperatorSettings withScheduleCheckInterval(Duration interval) {
        return new OperatorSettings(namespace, agentImage, dkmsImage, repositoryImage, agentServiceAccount, repositoryServiceAccount,
                operatorServiceAccount, interval,
                agentClaimTimeout, agentSilenceTimeout, nodeLostGrace, caValidity, serverCertValidity, certRenewBefore,
                encryptionKeyRotation);
    }

    public OperatorSettings withTimeouts(Duration claim, Duration silence, Duration nodeLost) {
        return new OperatorSettings(namespace, agentImage, dkmsImage, repositoryImage, agentServiceAccount, repositoryServiceAccount,
                operatorServiceAccount, scheduleCheckInterval, claim, silence, nodeLost, caValidity, serverCertValidity, certRenewBefore,
                encryptionKeyRotation);
    }

    public OperatorSettings withCertificates(Duration ca, Duration server, Duration renewBefore, Duration keyRotation) {
        return new OperatorSettings(namespace, agentImage, dkmsImage, repositoryImage, agentServiceAccount, repositoryServiceAccount,
                operatorServiceAccount, scheduleCheckInterval, agentClaimTimeout, agentSilenceTimeout, nodeLostGrace, ca, server, renewBefore,
                keyRotation);
    }
}
