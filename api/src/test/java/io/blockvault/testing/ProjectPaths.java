package io.blockvault.testing;

import java.nio.file.Files;
import java.nio.file.Path;

/** Locations in the source tree and the cache that tests need. */
public final class ProjectPaths {

    private ProjectPaths() {
    }

    /** The checkout's root: Maven passes it, else the nearest parent holding the Maven wrapper. */
    public static Path root() {
        String fromMaven = System.getProperty("blockvault.project.root");
        if (fromMaven != null && !fromMaven.isBlank()) {
            return Path.of(fromMaven).toAbsolutePath().normalize();
        }
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("mvnw")) && Files.isDirectory(p.resolve("crds"))) {
                return p;
            }
        }
        throw new IllegalStateException("cannot find the project root (a folder with mvnw and crds/) above "
                + Path.of("").toAbsolutePath());
    }

    public static Path crds() {
        return root().resolve("crds");
    }

    /** The directory kube-api-test reads binaries from: {@code <dir>/k8s/<version>-linux-amd64/}. */
    public static Path kubeApiTestDir() {
        String dir = System.getProperty("blockvault.kube-api-test.dir");
        if (dir == null || dir.isBlank()) {
            dir = System.getenv("KUBE_API_TEST_DIR");
        }
        if (dir == null || dir.isBlank()) {
            return Path.of(System.getProperty("user.home"), ".cache", "blockvault", "kube-api-test");
        }
        return Path.of(dir);
    }

    /** The Kubernetes version tools/provision-control-plane pins. */
    public static String kubernetesVersion() {
        Path file = root().resolve("tools/control-plane/VERSION");
        try {
            return Files.readString(file).trim();
        } catch (java.io.IOException e) {
            throw new IllegalStateException("cannot read the pinned Kubernetes version from " + file, e);
        }
    }
}
