package io.blockvault.repository.format;

import java.util.regex.Pattern;

/** Validation of names that become file names: node names and restore point ids. */
public final class Names {

    private static final Pattern NODE = Pattern.compile("[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?");
    private static final Pattern POINT = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");

    private Names() {
    }

    /** A Kubernetes node name (DNS subdomain): lower-case letters, digits, '-' and '.'. */
    public static String requireNode(String node) {
        if (node == null || !NODE.matcher(node).matches() || node.contains("..")) {
            throw new IllegalArgumentException("'" + node + "' is not a valid node name (a DNS subdomain: "
                    + "lower-case letters, digits, '-' and '.')");
        }
        return node;
    }

    /** A restore point id: letters, digits, '.', '_' and '-', at most 128, not starting with '.'. */
    public static String requirePoint(String pointId) {
        if (pointId == null || !POINT.matcher(pointId).matches()) {
            throw new IllegalArgumentException("'" + pointId + "' is not a valid restore point id (letters, digits, "
                    + "'.', '_', '-'; at most 128)");
        }
        return pointId;
    }

    static void requireLength(String what, String value, int min, int max) {
        if (value == null || value.length() < min || value.length() > max) {
            throw new IllegalArgumentException(what + " must have " + min + ".." + max + " characters, got "
                    + (value == null ? "null" : value.length()));
        }
    }
}
