package io.blockvault.agent.controller;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Resolves a Backup's {@code spec.device} on this node: a plain path must exist; a glob (as a
 * BackupPolicy's device selector, e.g. {@code /dev/disk/by-id/nvme-*}) must match exactly one entry.
 */
public final class DeviceResolver {

    /** Reason when nothing matches. */
    public static final String DEVICE_NOT_FOUND = "DeviceNotFound";
    /** Reason when a glob matches more than one device. */
    public static final String AMBIGUOUS_DEVICE = "AmbiguousDevice";

    public Path resolve(String device) throws JobFailure {
        if (!isGlob(device)) {
            Path p = Path.of(device);
            if (!Files.exists(p)) {
                throw new JobFailure(DEVICE_NOT_FOUND, "device " + device + " does not exist on this node; check "
                        + "spec.device (ls -l /dev/disk/by-id/ on the node lists stable names) and that the Backup's "
                        + "spec.nodeName is the node that has the disk");
            }
            return p;
        }
        List<Path> matches = matches(device);
        if (matches.isEmpty()) {
            throw new JobFailure(DEVICE_NOT_FOUND, "no device on this node matches " + device + "; check the "
                    + "pattern against ls -l /dev/disk/by-id/ on the node, or restrict the policy to nodes that have "
                    + "the disk");
        }
        if (matches.size() > 1) {
            throw new JobFailure(AMBIGUOUS_DEVICE, "the pattern " + device + " matches " + matches.size()
                    + " devices on this node (" + String.join(", ", matches.stream().map(Path::toString).toList())
                    + "); a Backup covers one device: make the pattern match exactly one");
        }
        return matches.get(0);
    }

    static boolean isGlob(String path) {
        return path.chars().anyMatch(c -> c == '*' || c == '?' || c == '[');
    }

    private static List<Path> matches(String glob) throws JobFailure {
        Path pattern = Path.of(glob);
        // The longest prefix without glob characters is where the walk starts.
        Path base = pattern.getRoot();
        int depth = 0;
        boolean globSeen = false;
        for (Path segment : pattern) {
            if (globSeen || isGlob(segment.toString())) {
                globSeen = true;
                depth++;
            } else {
                base = base.resolve(segment);
            }
        }
        if (!Files.isDirectory(base)) {
            return List.of();
        }
        PathMatcher matcher = FileSystems.getDefault().getPathMatcher("glob:" + glob);
        List<Path> found = new ArrayList<>();
        try (Stream<Path> s = Files.walk(base, depth)) {
            s.filter(p -> p.getNameCount() == pattern.getNameCount() && matcher.matches(p)).sorted()
                    .forEach(found::add);
        } catch (IOException | UncheckedIOException e) {
            throw new JobFailure(DEVICE_NOT_FOUND, "cannot list " + base + " to resolve " + glob + ": " + e
                    .getMessage() + "; check the agent runs privileged with /dev mounted", e);
        }
        return found;
    }
}
