package io.blockvault.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.ValidationRule;

@ValidationRule(value = "self.mode != 'External' || has(self.external)",
        message = "spec.external (endpoint and caBundle) is required when spec.mode is External",
        reason = "FieldValueRequired", fieldPath = ".external")
@ValidationRule(value = "self.mode != 'Managed' || !has(self.external)",
        message = "spec.external must be omitted when spec.mode is Managed; use spec.managed instead",
        reason = "FieldValueForbidden", fieldPath = ".external")
@ValidationRule(value = "!has(oldSelf.immutabilityDays) || (has(self.immutabilityDays)"
        + " && self.immutabilityDays >= oldSelf.immutabilityDays)",
        message = "spec.immutabilityDays can be raised, never lowered: locked backups keep their period",
        reason = "FieldValueForbidden", fieldPath = ".immutabilityDays")
public record BackupRepositorySpec(
        @Required
        @JsonPropertyDescription("Managed: the operator deploys the repository. External: connect to spec.external.")
        RepositoryMode mode,

        @Default("7")
        @Min(1)
        @Max(3650)
        @JsonPropertyDescription("Days every restore point stays immutable after it is written. Can only be raised.")
        Integer immutabilityDays,

        @JsonPropertyDescription("Settings of a managed repository.")
        ManagedRepository managed,

        @JsonPropertyDescription("Connection to an external repository.")
        ExternalRepository external) {

    /** Storage of a repository the operator deploys. */
    public record ManagedRepository(
            @JsonPropertyDescription("StorageClass of the repository volume; XFS with reflink is recommended.")
            String storageClassName,

            @Default("100Gi")
            @io.fabric8.generator.annotation.Pattern(Names.QUANTITY)
            @JsonPropertyDescription("Size of the repository volume, a Kubernetes quantity such as 500Gi.")
            String storageSize) {
    }

    /** A repository reached over the network. */
    public record ExternalRepository(
            @Required
            @io.fabric8.generator.annotation.Pattern(Names.ENDPOINT)
            @JsonPropertyDescription("host:port of the repository transport (default port 6162).")
            String endpoint,

            @Required
            @JsonPropertyDescription("PEM certificates that sign the repository's TLS certificate.")
            String caBundle) {
    }
}
