package io.blockvault.agent.blksnap;

/** The version the control device reports. */
public record ModuleVersion(int major, int minor, int revision, int build) {

    @Override
    public String toString() {
        return major + "." + minor + "." + revision + "." + build;
    }
}
