package io.blockvault.helm;

import static org.assertj.core.api.Assertions.assertThat;

import io.blockvault.testing.ProjectPaths;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * docs/troubleshooting.md lists every condition and Event reason the operator and the node agent
 * set, read from their sources by the forms those reasons are written in.
 */
class DocsReasonsTest {

    private static final List<Pattern> REASON_FORMS = List.of(
            Pattern.compile("new JobFailure\\(\"([A-Z]\\w+)\""),
            Pattern.compile("ModuleState\\.Reason\\.([A-Z]\\w+)"),
            Pattern.compile("static final String [A-Z_]+ = \"([A-Z]\\w+)\";"),
            Pattern.compile("\\.set\\(Conditions\\.\\w+, [^,]+, \"([A-Z]\\w+)\""),
            Pattern.compile("\\? \"([A-Z]\\w+)\" : \"[A-Z]\\w+\""),
            Pattern.compile("\\? \"[A-Z]\\w+\" : \"([A-Z]\\w+)\""),
            Pattern.compile("setCondition\\(\"\\w+\", \"([A-Z]\\w+)\""),
            Pattern.compile("new Problem\\(\"([A-Z]\\w+)\""),
            Pattern.compile("\\.(?:normal|warning)\\(\\w+, \"([A-Z]\\w+)\""),
            Pattern.compile("new InvalidScheduleException\\(\"([A-Z]\\w+)\""));

    /** Strings of those forms that are condition types or statuses, not reasons. */
    private static final Set<String> NOT_REASONS = Set.of("Ready", "Progressing", "Degraded", "AgentProgressing",
            "True", "False", "Unknown");

    @Test
    void troubleshootingListsEveryReason() throws IOException {
        Set<String> reasons = new TreeSet<>();
        for (String dir : List.of("operator/src/main/java", "node-agent/src/main/java")) {
            try (Stream<Path> files = Files.walk(ProjectPaths.root().resolve(dir))) {
                for (Path file : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                    String source = Files.readString(file);
                    for (Pattern form : REASON_FORMS) {
                        Matcher m = form.matcher(source);
                        while (m.find()) {
                            reasons.add(m.group(1));
                        }
                    }
                }
            }
        }
        reasons.removeAll(NOT_REASONS);
        // Enough to know the forms still match how the sources write reasons.
        assertThat(reasons).contains("DiffStorageOverflow", "NodeLost", "AgentSilent", "InvalidSchedule",
                "RepositoryNotFound", "BackupsFailed", "MissedSchedule", "AgentRestarted", "DeviceNotFound")
                .hasSizeGreaterThanOrEqualTo(35);
        String doc = Files.readString(ProjectPaths.root().resolve("docs/troubleshooting.md"));
        assertThat(reasons).as("reasons missing from docs/troubleshooting.md")
                .allSatisfy(reason -> assertThat(doc).contains("| `" + reason + "`"));
    }
}
