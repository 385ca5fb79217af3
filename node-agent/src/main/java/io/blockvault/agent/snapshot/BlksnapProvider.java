package io.blockvault.agent.snapshot;

import io.blockvault.agent.blksnap.BdevFilter;
import io.blockvault.agent.blksnap.CbtInfo;
import io.blockvault.agent.blksnap.SnapshotControl;
import io.blockvault.agent.blksnap.SnapshotEvent;
import io.blockvault.agent.blksnap.SnapshotId;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Snapshots through the blksnap module: attach (tracking starts and then runs until detach or
 * reboot), create with difference storage, add the devices, watch events on a thread of its
 * own, take (the module freezes the filesystems for the instant), and find the images.
 */
public final class BlksnapProvider implements SnapshotProvider {

    private static final int EVENT_POLL_MILLIS = 500;

    @Override
    public String name() {
        return "blksnap";
    }

    @Override
    public Snapshot take(List<String> devices, SnapshotOptions options) throws IOException {
        BdevFilter filter = BdevFilter.open();
        SnapshotControl control;
        try {
            control = SnapshotControl.open();
        } catch (IOException e) {
            filter.close();
            throw e;
        }
        try {
            for (String device : devices) {
                filter.attach(device);
            }
            SnapshotId id = control.create(options.diffStorage(), options.diffLimitBytes());
            Taken taken = new Taken(filter, control, id);
            try {
                for (String device : devices) {
                    filter.addToSnapshot(device, id);
                }
                taken.watchEvents();
                control.take(id);
                for (String device : devices) {
                    taken.images.put(device, imageOf(filter, device));
                }
                return taken;
            } catch (IOException | RuntimeException e) {
                taken.close();
                throw e;
            }
        } catch (IOException | RuntimeException e) {
            control.close();
            filter.close();
            throw e;
        }
    }

    private static Path imageOf(BdevFilter filter, String device) throws IOException {
        BdevFilter.SnapshotInfo info = filter.snapshotInfo(device);
        if (info.errorCode() != 0) {
            throw new IOException("snapshot of " + device + " failed in the module: errno " + -info.errorCode());
        }
        if (info.image() == null) {
            throw new IOException("the module reports no image disk for " + device + " after the take");
        }
        return info.image();
    }

    /** A snapshot held in the module until closed. */
    private static final class Taken implements Snapshot {

        private final BdevFilter filter;
        private final SnapshotControl control;
        private final SnapshotId id;
        private final Map<String, Path> images = new HashMap<>();
        private final AtomicReference<String> failure = new AtomicReference<>();
        private volatile boolean closed;
        private Thread events;

        Taken(BdevFilter filter, SnapshotControl control, SnapshotId id) {
            this.filter = filter;
            this.control = control;
            this.id = id;
        }

        void watchEvents() {
            events = new Thread(this::pollEvents, "blksnap-events-" + id);
            events.setDaemon(true);
            events.start();
        }

        private void pollEvents() {
            while (!closed) {
                try {
                    control.waitEvent(id, EVENT_POLL_MILLIS).ifPresent(this::record);
                } catch (IOException e) {
                    if (!closed) {
                        failure.compareAndSet(null, "cannot wait for snapshot events: " + e.getMessage());
                    }
                    return;
                }
            }
        }

        private void record(SnapshotEvent event) {
            if (event instanceof SnapshotEvent.Corrupted c) {
                failure.compareAndSet(null, "DiffStorageOverflow: the snapshot is corrupted (device " + c.deviceMajor()
                        + ":" + c.deviceMinor() + ", errno " + -c.errorCode() + "); most often the difference storage"
                        + " overflowed: raise spec.diffStorage.limitMiB or back up when fewer writes happen");
            } else if (event instanceof SnapshotEvent.NoSpace n) {
                failure.compareAndSet(null, "DiffStorageOverflow: the difference storage reached its limit ("
                        + n.requestedSectors() + " more sectors requested): raise spec.diffStorage.limitMiB");
            }
        }

        @Override
        public Path image(String device) {
            Path image = images.get(device);
            if (image == null) {
                throw new IllegalArgumentException(device + " is not part of this snapshot");
            }
            return image;
        }

        @Override
        public Optional<Tracking> tracking(String device) throws IOException {
            CbtInfo info = filter.cbtInfo(device);
            return Optional.of(new Tracking(info, filter.cbtMap(device, info.blockCount())));
        }

        @Override
        public boolean crashConsistent() {
            return true;
        }

        @Override
        public Optional<String> failure() {
            return Optional.ofNullable(failure.get());
        }

        @Override
        public void close() throws IOException {
            closed = true;
            try {
                control.destroy(id);
            } finally {
                try {
                    if (events != null) {
                        events.join(EVENT_POLL_MILLIS * 4L);
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                control.close();
                filter.close();
            }
        }
    }
}
