package io.blockvault.agent.controller;

/**
 * A Backup or Restore that names another repository than the one this agent was started for: it
 * fails rather than writing to (or reading from) the wrong repository.
 */
final class RepositoryMismatch {

    static final String REASON = "RepositoryMismatch";

    private RepositoryMismatch() {
    }

    static JobFailure of(String kind, String named, String served) {
        return new JobFailure(REASON, "this " + kind + " names repository '" + named + "' (spec.repository), but the "
                + "agent on this node works with repository '" + served + "'; set spec.repository to '" + served
                + "', or cover this node with a BackupPolicy of repository '" + named + "'");
    }
}
