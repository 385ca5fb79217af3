package io.blockvault.agent.controller;

import io.blockvault.agent.backup.BackupResult;
import io.blockvault.repository.client.BackupListener;
import java.io.IOException;
import java.nio.file.Path;

/** Runs one backup of a resolved device on this node; the controller's only view of the engine. */
@FunctionalInterface
public interface BackupRunner {

    /**
     * @param repository the BackupRepository the Backup names (one this agent serves)
     * @param policy     the settings of the Backup's policy that override the agent's defaults
     */
    BackupResult run(String repository, Path device, boolean full, PolicyTuning policy, BackupListener listener)
            throws IOException, JobFailure;
}
