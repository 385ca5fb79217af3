package io.blockvault.repository.format;

/**
 * Where changed-block tracking stood when a restore point was taken: the tracker's generation id
 * (changes on reboot or module reload) and its change number. {@link #NONE} when unknown.
 */
public record ChangeId(String generationId, long changeNumber) {

    public static final ChangeId NONE = new ChangeId("", -1);

    public ChangeId {
        Names.requireLength("generation id", generationId, 0, 128);
    }
}
