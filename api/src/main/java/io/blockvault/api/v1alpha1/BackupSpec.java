package io.blockvault.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.ValidationRule;

@ValidationRule(value = "self == oldSelf", message = "a Backup's spec cannot change; create a new Backup instead")
public record BackupSpec(
        @Pattern(Names.DNS_SUBDOMAIN)
        @JsonPropertyDescription("The BackupPolicy that created this backup; empty for an on-demand backup.")
        String policy,

        @Required
        @Pattern(Names.DNS_SUBDOMAIN)
        @JsonPropertyDescription("Name of the BackupRepository that receives the backup.")
        String repository,

        @Required
        @Pattern(Names.DNS_SUBDOMAIN)
        @JsonPropertyDescription("Node whose agent runs the backup.")
        String nodeName,

        @Required
        @Pattern(Names.DEVICE_PATH)
        @JsonPropertyDescription("Block device on that node, such as /dev/disk/by-id/nvme-..., or a policy's glob that"
                + " the agent resolves on the node.")
        String device,

        @Default("Auto")
        @JsonPropertyDescription("Auto: incremental by changed block tracking when possible. Full: read everything.")
        BackupType type) {
}
