package io.blockvault.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.ValidationRule;

@ValidationRule(value = "self == oldSelf", message = "a Restore's spec cannot change; create a new Restore instead")
public record RestoreSpec(
        @Required
        @Pattern(Names.DNS_SUBDOMAIN)
        @JsonPropertyDescription("Name of the BackupRepository that holds the restore point.")
        String repository,

        @Required
        @JsonPropertyDescription("Which restore point to restore.")
        Source source,

        @Required
        @JsonPropertyDescription("Where to write it.")
        Target target,

        @Default("false")
        @JsonPropertyDescription("Write even when the target device is mounted or in use.")
        Boolean force) {

    /** Exactly one of a Backup object's name or a restore point id. */
    @ValidationRule(value = "has(self.backup) != has(self.restorePointId)",
            message = "set exactly one of spec.source.backup and spec.source.restorePointId")
    public record Source(
            @Pattern(Names.DNS_SUBDOMAIN)
            @JsonPropertyDescription("Name of a succeeded Backup object; its restore point is restored.")
            String backup,

            @Pattern("^[A-Za-z0-9._-]+$")
            @JsonPropertyDescription("Id of a restore point in the repository.")
            String restorePointId) {
    }

    /** Exactly one of a device, a file or a PVC. */
    @ValidationRule(value = "(has(self.device) ? 1 : 0) + (has(self.file) ? 1 : 0) + (has(self.pvc) ? 1 : 0) == 1",
            message = "set exactly one of spec.target.device, spec.target.file and spec.target.pvc")
    @ValidationRule(value = "has(self.pvc) || has(self.nodeName)",
            message = "spec.target.nodeName is required for a device or file target", fieldPath = ".nodeName")
    public record Target(
            @Pattern(Names.DNS_SUBDOMAIN)
            @JsonPropertyDescription("Node whose agent writes the device or file.")
            String nodeName,

            @Pattern(Names.DEVICE_PATH)
            @JsonPropertyDescription("Block device to overwrite, at least as large as the restored one.")
            String device,

            @Pattern("^/.+$")
            @JsonPropertyDescription("Path of an image file to create on the node.")
            String file,

            @JsonPropertyDescription("A PersistentVolumeClaim whose volume is overwritten.")
            PvcTarget pvc) {
    }

    /** A claim by namespace and name. */
    public record PvcTarget(
            @Required @Pattern(Names.DNS_SUBDOMAIN) String namespace,
            @Required @Pattern(Names.DNS_SUBDOMAIN) String name) {
    }
}
