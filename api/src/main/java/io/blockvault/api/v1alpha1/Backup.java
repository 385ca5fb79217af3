package io.blockvault.api.v1alpha1;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.crd.generator.annotation.AdditionalSelectableField;
import io.fabric8.crd.generator.annotation.PrinterColumnFormat;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Version;

/** One backup run of one device on one node. */
@Group(Names.GROUP)
@Version(Names.VERSION)
@ShortNames("bvbackup")
@AdditionalSelectableField(jsonPath = ".spec.nodeName")
@AdditionalPrinterColumn(name = "Node", jsonPath = ".spec.nodeName", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Device", jsonPath = ".spec.device", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Phase", jsonPath = ".status.phase", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Mode", jsonPath = ".status.mode", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Progress", jsonPath = ".status.progress.percent",
        type = AdditionalPrinterColumn.Type.INTEGER, format = PrinterColumnFormat.INT32)
@AdditionalPrinterColumn(name = "Sent", jsonPath = ".status.progress.sentBytes",
        type = AdditionalPrinterColumn.Type.INTEGER, format = PrinterColumnFormat.INT64)
@AdditionalPrinterColumn(name = "Restore Point", jsonPath = ".status.restorePointId",
        type = AdditionalPrinterColumn.Type.STRING, priority = 1)
// A string: kubectl shows a date column as an age, and a future time as "<invalid>".
@AdditionalPrinterColumn(name = "Immutable Until", jsonPath = ".status.immutableUntil",
        type = AdditionalPrinterColumn.Type.STRING, priority = 1)
@AdditionalPrinterColumn(name = "Reason", jsonPath = ".status.reason", type = AdditionalPrinterColumn.Type.STRING,
        priority = 1)
@AdditionalPrinterColumn(name = "Age", jsonPath = ".metadata.creationTimestamp", type = AdditionalPrinterColumn.Type.DATE)
public class Backup extends CustomResource<BackupSpec, BackupStatus> {
}
