package io.blockvault.api.v1alpha1;

/** Constants shared by the resource classes, the operator and the agent. */
public final class Names {

    public static final String GROUP = "blockvault.io";
    public static final String VERSION = "v1alpha1";

    /** DNS-1123 subdomain: what a reference to another cluster object must look like. */
    public static final String DNS_SUBDOMAIN = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";

    /**
     * Five cron fields (minute hour day-of-month month day-of-week) made of numbers, ranges, steps,
     * lists, names and '*', or one of the usual macros. The operator parses the expression again
     * and reports what the pattern cannot catch (for example minute 61) as a condition.
     */
    public static final String CRON = "^(@(yearly|annually|monthly|weekly|daily|midnight|hourly)"
            + "|([0-9A-Za-z*?/,-]+ +){4}[0-9A-Za-z*?/,-]+)$";

    /** An absolute path under /dev, with glob characters allowed for device selectors. */
    public static final String DEVICE_PATH = "^/dev/[A-Za-z0-9._:@+*?\\[\\]/-]+$";

    /** host:port of a repository endpoint. */
    public static final String ENDPOINT = "^[A-Za-z0-9.-]+:[0-9]{1,5}$";

    /** A Kubernetes quantity such as 100Gi. */
    public static final String QUANTITY = "^[0-9]+(\\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$";

    /** An IANA time zone name such as Europe/Berlin, or UTC. */
    public static final String TIME_ZONE = "^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*$";

    private Names() {
    }
}
