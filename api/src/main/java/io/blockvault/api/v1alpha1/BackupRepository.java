package io.blockvault.api.v1alpha1;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.crd.generator.annotation.PrinterColumnFormat;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Version;
import io.fabric8.kubernetes.client.CustomResource;

/** Where backups are stored: a repository the operator deploys, or one that runs elsewhere. */
@Group(Names.GROUP)
@Version(Names.VERSION)
@ShortNames("bvrepo")
@AdditionalPrinterColumn(name = "Mode", jsonPath = ".spec.mode", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Endpoint", jsonPath = ".status.endpoint", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Ready", jsonPath = ".status.conditions[?(@.type==\"Ready\")].status",
        type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Used", jsonPath = ".status.usedBytes", type = AdditionalPrinterColumn.Type.INTEGER,
        format = PrinterColumnFormat.INT64)
@AdditionalPrinterColumn(name = "Capacity", jsonPath = ".status.capacityBytes",
        type = AdditionalPrinterColumn.Type.INTEGER, format = PrinterColumnFormat.INT64)
@AdditionalPrinterColumn(name = "Dedup", jsonPath = ".status.dedupRatio", type = AdditionalPrinterColumn.Type.NUMBER,
        priority = 1)
@AdditionalPrinterColumn(name = "Age", jsonPath = ".metadata.creationTimestamp", type = AdditionalPrinterColumn.Type.DATE)
public class BackupRepository extends CustomResource<BackupRepositorySpec, BackupRepositoryStatus> {
}
