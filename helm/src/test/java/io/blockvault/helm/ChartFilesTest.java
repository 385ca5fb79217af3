package io.blockvault.helm;

import static org.assertj.core.api.Assertions.assertThat;

import io.blockvault.testing.ProjectPaths;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The chart ships exactly the CRDs of crds/ (Helm can read only files inside the chart). */
class ChartFilesTest {

    @Test
    void chartCrdsAreTheGeneratedOnes() throws IOException {
        Map<String, String> chart = read(Helm.CHART.resolve("files/crds"));
        Map<String, String> generated = read(ProjectPaths.crds());
        assertThat(generated).hasSize(4);
        assertThat(chart).as("helm/blockvault/files/crds must equal crds/; run tools/update-crds")
                .isEqualTo(generated);
    }

    private static Map<String, String> read(Path dir) throws IOException {
        Map<String, String> files = new TreeMap<>();
        try (Stream<Path> s = Files.list(dir)) {
            for (Path f : s.filter(p -> p.toString().endsWith(".yaml")).toList()) {
                files.put(f.getFileName().toString(), Files.readString(f));
            }
        }
        return files;
    }
}
