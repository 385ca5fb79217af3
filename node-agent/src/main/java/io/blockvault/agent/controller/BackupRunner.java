package io.blockvault.agent.controller;

import io.blockvault.agent.backup.BackupResult;
import io.blockvault.repository.client.BackupListener;
import java.io.IOException;
import java.nio.file.Path;

/** Runs one backup of a resolved device on this node; the controller's only view of the engine. */
@FunctionalInterface
public interface BackupRunner {

    BackupResult run(Path device, boolean full, BackupListener listener) throws IOException, JobFailure;
}
