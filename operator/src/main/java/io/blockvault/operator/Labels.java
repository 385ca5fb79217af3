package io.blockvault.operator;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

/** Labels and annotations the operator puts on the objects it creates. */
public final class Labels {

    public static final String MANAGED_BY = "app.kubernetes.io/managed-by";
    public static final String MANAGED_BY_VALUE = "blockvault-operator";
    public static final String NAME = "app.kubernetes.io/name";
    public static final String INSTANCE = "app.kubernetes.io/instance";
    public static final String COMPONENT = "app.kubernetes.io/component";
    public static final String PART_OF = "app.kubernetes.io/part-of";

    public static final String POLICY = "blockvault.io/policy";
    public static final String NODE = "blockvault.io/node";
    public static final String DEVICE_HASH = "blockvault.io/device-hash";
    public static final String SCHEDULE_TIME = "blockvault.io/schedule-time";
    public static final String TYPE = "blockvault.io/type";
    public static final String REPOSITORY = "blockvault.io/repository";

    /** On a Backup: delete its restore point when the Backup object is deleted. */
    public static final String DELETE_RESTORE_POINT = "blockvault.io/delete-restore-point";

    private static final Pattern LABEL_VALUE = Pattern.compile("^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$");

    private Labels() {
    }

    /** The usual labels of an object this operator made for {@code owner} in role {@code component}. */
    public static Map<String, String> of(String appName, String owner, String component) {
        Map<String, String> labels = new LinkedHashMap<>();
        labels.put(NAME, appName);
        labels.put(INSTANCE, value(owner));
        labels.put(COMPONENT, component);
        labels.put(PART_OF, "blockvault");
        labels.put(MANAGED_BY, MANAGED_BY_VALUE);
        return labels;
    }

    /**
     * {@code text} itself when it is a valid label value, else a stable hash of it: object names may be
     * 253 characters, label values only 63.
     */
    public static String value(String text) {
        if (text.length() <= 63 && LABEL_VALUE.matcher(text).matches()) {
            return text;
        }
        return "h-" + hash(text, 20);
    }

    /** The first {@code hexChars} hex digits of the SHA-256 of {@code text}. */
    public static String hash(String text, int hexChars) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest).substring(0, hexChars);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }
}
