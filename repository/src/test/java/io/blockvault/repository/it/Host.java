package io.blockvault.repository.it;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/** Commands on the test machine: root checks, the transport's system user, setpriv, the runner jar. */
public final class Host {

    public static final String TRANSPORT_USER = "blockvault";

    /** Result of a finished command. */
    public record Result(int exit, String output) {
    }

    private Host() {
    }

    public static Result run(List<String> cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException(cmd + " did not finish within 120 s");
        }
        return new Result(p.exitValue(), out);
    }

    public static String ok(String... cmd) throws IOException, InterruptedException {
        Result r = run(List.of(cmd));
        if (r.exit() != 0) {
            throw new IOException(String.join(" ", cmd) + " failed (exit " + r.exit() + "): " + r.output());
        }
        return r.output();
    }

    /** Fails (never skips) when the tests cannot do what they need here. */
    public static void requireRoot() throws IOException {
        int uid = (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
        if (uid != 0) {
            throw new IllegalStateException("this integration test needs root (loop devices, mkfs, chattr, setpriv); "
                    + "it runs as uid " + uid + ". Run './mvnw -pl repository verify' as root.");
        }
        for (String tool : List.of("losetup", "mkfs.ext4", "mkfs.xfs", "mount", "chattr", "lsattr", "setpriv",
                "useradd")) {
            if (Stream.of("/usr/sbin", "/usr/bin", "/sbin", "/bin").noneMatch(d -> Files.isExecutable(Path.of(d, tool)))) {
                throw new IllegalStateException(tool + " is missing; install it (apt-get install xfsprogs util-linux "
                        + "e2fsprogs passwd)");
            }
        }
    }

    /** Creates the transport's system user if needed and returns "uid:gid". */
    public static String ensureTransportUser() throws IOException, InterruptedException {
        if (run(List.of("id", "-u", TRANSPORT_USER)).exit() != 0) {
            Result r = run(List.of("useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
                    TRANSPORT_USER));
            if (r.exit() != 0 && run(List.of("id", "-u", TRANSPORT_USER)).exit() != 0) {
                throw new IOException("cannot create user " + TRANSPORT_USER + ": " + r.output());
            }
        }
        return ok("id", "-u", TRANSPORT_USER).trim() + ":" + ok("id", "-g", TRANSPORT_USER).trim();
    }

    /** A command run as the transport user with no capabilities at all. */
    public static List<String> asTransportUser(String... cmd) {
        List<String> c = new ArrayList<>(List.of("setpriv", "--reuid=" + TRANSPORT_USER, "--regid=" + TRANSPORT_USER,
                "--clear-groups", "--inh-caps=-all", "--bounding-set=-all", "--"));
        c.addAll(List.of(cmd));
        return c;
    }

    /** A command run as root that has every capability except CAP_LINUX_IMMUTABLE. */
    public static List<String> asRootWithoutImmutable(String... cmd) {
        List<String> c = new ArrayList<>(List.of("setpriv", "--inh-caps=-linux_immutable",
                "--bounding-set=-linux_immutable", "--"));
        c.addAll(List.of(cmd));
        return c;
    }

    /** The guard's command: root with only the capabilities it needs. */
    public static List<String> asGuard(Path jar, String... args) {
        List<String> c = new ArrayList<>(List.of("setpriv", "--inh-caps=-all",
                "--bounding-set=-all,+linux_immutable,+dac_override", "--", java(), "-Xmx256m", "-jar",
                jar.toString(), "guard"));
        c.addAll(List.of(args));
        return c;
    }

    public static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /**
     * The shaded jar, copied where the transport user can read it. The package phase builds it
     * before failsafe runs; running an IT without it fails with that reason.
     */
    public static Path runnerJar(Path workDir) throws IOException {
        Path target = Path.of(System.getProperty("user.dir"), "target");
        Path jar;
        try (Stream<Path> s = Files.list(target)) {
            jar = s.filter(p -> p.getFileName().toString().endsWith("-runner.jar")).findFirst().orElseThrow(() ->
                    new IllegalStateException("no *-runner.jar in " + target + "; run the ITs through "
                            + "'./mvnw -pl repository verify', whose package phase builds it"));
        }
        Files.createDirectories(workDir);
        Files.setPosixFilePermissions(workDir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path copy = workDir.resolve("runner.jar");
        Files.copy(jar, copy, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Files.setPosixFilePermissions(copy, PosixFilePermissions.fromString("rw-r--r--"));
        return copy;
    }

    /** Removes a directory tree (after clearing immutable flags the tests may have left). */
    public static void deleteTree(Path dir) throws IOException, InterruptedException {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        run(List.of("chattr", "-R", "-i", dir.toString()));
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) s.sorted(java.util.Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(p);
            }
        }
    }
}
