package io.blockvault.repository.client;

/** Receives progress of a restore at least every progress interval, and once at the end. */
@FunctionalInterface
public interface RestoreListener {

    RestoreListener NONE = p -> { };

    void progress(RestoreProgress progress);
}
