package io.blockvault.agent.controller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The restore directory check on a real directory tree: canonical paths, no escape by .. or links. */
class RestoreFileTargetTest {

    @TempDir
    Path root;
    Path restore;
    Path outside;

    @BeforeEach
    void tree() throws Exception {
        restore = Files.createDirectories(root.resolve("restore")).toRealPath();
        Files.createDirectories(restore.resolve("sub"));
        outside = Files.createDirectories(root.resolve("elsewhere")).toRealPath();
    }

    Path resolve(String file) throws JobFailure {
        return RestoreFileTarget.resolve(restore, file, "node-a");
    }

    void refused(String file, String reason, String... message) {
        assertThatThrownBy(() -> resolve(file)).isInstanceOfSatisfying(JobFailure.class, f -> {
            assertThat(f.reason()).isEqualTo(reason);
            assertThat(f.getMessage()).contains(message);
        });
    }

    @Test
    void filesInsideTheDirectoryAreAcceptedCanonically() throws Exception {
        assertThat(resolve(restore + "/disk.img")).isEqualTo(restore.resolve("disk.img"));
        assertThat(resolve(restore + "/sub/disk.img")).isEqualTo(restore.resolve("sub/disk.img"));
        assertThat(resolve(restore + "/sub/../disk.img")).isEqualTo(restore.resolve("disk.img"));
        assertThat(resolve(restore + "/./sub//disk.img")).isEqualTo(restore.resolve("sub/disk.img"));
    }

    @Test
    void pathsLeavingTheDirectoryAreRefusedNamingItAndTheFix() {
        refused(outside + "/disk.img", RestoreFileTarget.OUTSIDE, "is outside the agent's restore directory "
                + restore + " on node node-a", "spec.target.file to an absolute path under " + restore,
                "spec.target.device");
        refused(restore + "/../elsewhere/disk.img", RestoreFileTarget.OUTSIDE, "outside");
        refused(restore + "/sub/../../disk.img", RestoreFileTarget.OUTSIDE, "outside");
        refused("disk.img", RestoreFileTarget.OUTSIDE, "absolute path");
        refused(restore + "/sub/..", RestoreFileTarget.OUTSIDE, "outside");
        refused(restore.toString(), RestoreFileTarget.OUTSIDE, "outside");
        refused("/", RestoreFileTarget.OUTSIDE, "outside");
        // A missing directory whose lexical path already leaves: outside, not "missing".
        refused(restore + "/../nowhere/disk.img", RestoreFileTarget.OUTSIDE, "outside");
    }

    @Test
    void symbolicLinksAreResolvedBeforeTheCheck() throws Exception {
        Files.createSymbolicLink(restore.resolve("escape"), outside);
        refused(restore + "/escape/disk.img", RestoreFileTarget.OUTSIDE, "(resolved: " + outside + "/disk.img)");
        Files.writeString(outside.resolve("victim"), "x");
        Files.createSymbolicLink(restore.resolve("link.img"), outside.resolve("victim"));
        refused(restore + "/link.img", RestoreFileTarget.OUTSIDE, "(resolved: " + outside + "/victim)");
        Files.createSymbolicLink(restore.resolve("dangling.img"), outside.resolve("not-yet"));
        refused(restore + "/dangling.img", RestoreFileTarget.OUTSIDE, "symbolic link to a missing file");
        // A link inside the directory to a file inside it is fine: the canonical file is written.
        Files.writeString(restore.resolve("sub/real.img"), "x");
        Files.createSymbolicLink(restore.resolve("alias.img"), restore.resolve("sub/real.img"));
        assertThat(resolve(restore + "/alias.img")).isEqualTo(restore.resolve("sub/real.img"));
        // The restore directory reached through a link is still itself.
        Path linkedDir = Files.createSymbolicLink(root.resolve("restore-link"), restore);
        assertThat(RestoreFileTarget.resolve(linkedDir, linkedDir + "/disk.img", "node-a"))
                .isEqualTo(restore.resolve("disk.img"));
    }

    @Test
    void aMissingDirectoryIsNotFoundAndSaysWhereToCreateIt() {
        refused(restore + "/missing/disk.img", RestoreFileTarget.NOT_FOUND, "does not exist on node node-a",
                "create it under " + restore);
        assertThatThrownBy(() -> RestoreFileTarget.resolve(root.resolve("absent"), "/x/disk.img", "node-a"))
                .isInstanceOfSatisfying(JobFailure.class, f -> {
                    assertThat(f.reason()).isEqualTo(RestoreFileTarget.NOT_FOUND);
                    assertThat(f.getMessage()).contains("restore directory " + root.resolve("absent"),
                            "--restore-file-dir");
                });
    }
}
