package io.blockvault.agent.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Commands on the test machine. */
public final class Host {

    /** Result of a finished command. */
    public record Result(int exit, String stdout, String stderr) {
    }

    private Host() {
    }

    public static Result run(Path dir, List<String> cmd) throws IOException, InterruptedException {
        Path err = Files.createTempFile("cmd", ".err");
        try {
            Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectError(err.toFile()).start();
            p.getOutputStream().close();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(300, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException(cmd + " did not finish within 300 s");
            }
            return new Result(p.exitValue(), out, Files.readString(err));
        } finally {
            Files.deleteIfExists(err);
        }
    }

    public static String ok(Path dir, String... cmd) throws IOException, InterruptedException {
        Result r = run(dir, List.of(cmd));
        if (r.exit() != 0) {
            throw new IOException(String.join(" ", cmd) + " failed (exit " + r.exit() + "): " + r.stdout() + r.stderr());
        }
        return r.stdout();
    }

    /** Fails (never skips) when the test cannot do what it needs here. */
    public static void requireRoot() throws IOException {
        int uid = (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
        if (uid != 0) {
            throw new IllegalStateException("this integration test needs root (loop devices); it runs as uid " + uid
                    + ". Run './mvnw -pl node-agent verify' as root.");
        }
    }
}
