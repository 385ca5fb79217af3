package io.blockvault.agent.controller;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where a Restore's {@code spec.target.file} may be written: inside the agent's restore directory
 * (a host directory mounted at the same path, {@code --restore-file-dir}), so the image outlives the
 * pod. Checked on the canonical path: {@code ..} and symbolic links (of the directories and of an
 * existing file) are resolved first, so neither can lead out of the directory.
 */
public final class RestoreFileTarget {

    public static final String OUTSIDE = "TargetOutsideRestoreDir";
    public static final String NOT_FOUND = "TargetNotFound";

    private RestoreFileTarget() {
    }

    /**
     * The canonical path to write {@code file} to.
     *
     * @param restoreDir the agent's restore directory
     * @param file       spec.target.file as given
     * @param node       this node, for messages
     */
    public static Path resolve(Path restoreDir, String file, String node) throws JobFailure {
        Path dir;
        try {
            dir = restoreDir.toRealPath();
        } catch (IOException e) {
            throw new JobFailure(NOT_FOUND, "the agent's restore directory " + restoreDir + " does not exist on node "
                    + node + " (" + e.getMessage() + "); the agent's DaemonSet must mount it (--restore-file-dir)");
        }
        Path given = Path.of(file);
        if (!given.isAbsolute()) {
            throw outside(file, null, dir, node);
        }
        Path name = given.getFileName();
        Path parent = given.getParent();
        if (name == null || parent == null || name.toString().equals("..") || name.toString().equals(".")) {
            throw outside(file, null, dir, node);
        }
        Path realParent;
        try {
            realParent = parent.toRealPath();
        } catch (IOException e) {
            // Say "outside" rather than "missing" when the lexical path already leaves the directory.
            Path lexical = parent.normalize();
            if (!lexical.startsWith(dir) && !lexical.startsWith(restoreDir.normalize())) {
                throw outside(file, null, dir, node);
            }
            throw new JobFailure(NOT_FOUND, "the directory of spec.target.file " + file + " does not exist on node "
                    + node + "; create it under " + dir + " on the node, or name a file directly in " + dir);
        }
        Path target = realParent.resolve(name);
        if (Files.isSymbolicLink(target)) {
            try {
                target = target.toRealPath();
            } catch (IOException e) {
                // A dangling link would be followed by the write to wherever it points.
                throw outside(file, "a symbolic link to a missing file", dir, node);
            }
        }
        if (!target.startsWith(dir) || target.equals(dir)) {
            throw outside(file, target.toString(), dir, node);
        }
        return target;
    }

    private static JobFailure outside(String file, String resolved, Path dir, String node) {
        return new JobFailure(OUTSIDE, "spec.target.file " + file + (resolved == null ? "" : " (resolved: " + resolved
                + ")") + " is outside the agent's restore directory " + dir + " on node " + node + "; set "
                + "spec.target.file to an absolute path under " + dir + " (the node's directory of the same path, "
                + "where the file stays after the agent's pod), or restore to spec.target.device");
    }
}
