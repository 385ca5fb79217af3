package io.blockvault.agent.cli;

import io.blockvault.repository.client.BackupListener;
import io.blockvault.repository.client.BackupProgress;
import io.blockvault.repository.client.RestoreListener;
import io.blockvault.repository.client.RestoreProgress;
import java.io.PrintStream;
import java.util.OptionalLong;

/**
 * Progress on stderr: a bar redrawn in place on a terminal, plain lines otherwise (logs, pipes).
 */
final class ProgressPrinter implements BackupListener, RestoreListener {

    private static final int BAR = 30;
    private final PrintStream err;
    private final boolean terminal;

    ProgressPrinter(PrintStream err, boolean terminal) {
        this.err = err;
        this.terminal = terminal;
    }

    @Override
    public void progress(BackupProgress p) {
        print(p.percent(), String.format("scanned %s of %s, changed %s, sent %s, %s/s, ETA %s",
                size(p.scannedBytes()), size(p.toScanBytes()), size(p.changedBytes()), size(p.sentBytes()),
                size((long) p.bytesPerSecond()), eta(p.etaSeconds())), p.done());
    }

    @Override
    public void progress(RestoreProgress p) {
        print(p.percent(), String.format("restored %s of %s, fetched %s, %s/s, ETA %s", size(p.restoredBytes()),
                size(p.toRestoreBytes()), size(p.fetchedBytes()), size((long) p.bytesPerSecond()),
                eta(p.etaSeconds())), p.done());
    }

    private synchronized void print(double percent, String text, boolean done) {
        if (terminal) {
            int filled = (int) Math.round(percent / 100 * BAR);
            err.print("\r[" + "#".repeat(filled) + " ".repeat(BAR - filled) + "] "
                    + String.format("%5.1f%% ", percent) + text + "\033[K" + (done ? "\n" : ""));
        } else {
            err.println(String.format("progress %.1f%% ", percent) + text);
        }
        err.flush();
    }

    private static String eta(OptionalLong seconds) {
        if (seconds.isEmpty()) {
            return "?";
        }
        long s = seconds.getAsLong();
        return s >= 3600 ? String.format("%dh%02dm", s / 3600, s / 60 % 60) : String.format("%dm%02ds", s / 60, s % 60);
    }

    static String size(long bytes) {
        if (bytes < 1024) {
            return bytes + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        double v = bytes;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format("%.1f %s", v, units[u]);
    }
}
