package io.blockvault.agent.cli;

import io.blockvault.repository.client.PointSummary;
import io.blockvault.repository.client.Repository;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "list", mixinStandardHelpOptions = true, description = "List the restore points of a node.")
public final class ListCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Mixin
    CommonOptions common;

    @Option(names = "--device", paramLabel = "STABLE-ID", description = "only points of this device (stable id, or"
            + " a substring of it)")
    String device;

    @Override
    public Integer call() throws Exception {
        try (Repository repo = common.repository.open(spec.commandLine())) {
            List<PointSummary> points = new ArrayList<>(repo.listPoints(Optional.of(common.node())));
            points.removeIf(p -> device != null && !p.device().stableId().contains(device));
            points.sort(Comparator.comparing(PointSummary::finishedAt));
            Output out = new Output(System.out);
            if (common.json) {
                List<Map<String, Object>> list = new ArrayList<>();
                for (PointSummary p : points) {
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("node", p.ref().node());
                    m.put("pointId", p.ref().pointId());
                    m.put("device", p.device().stableId());
                    m.put("deviceSizeBytes", p.device().sizeBytes());
                    m.put("chunkSizeBytes", p.chunkSizeBytes());
                    m.put("parentPointId", p.parentPointId().orElse(null));
                    m.put("startedAt", p.startedAt().toString());
                    m.put("finishedAt", p.finishedAt().toString());
                    m.put("scannedBytes", p.stats().scannedBytes());
                    m.put("sentBytes", p.stats().sentBytes());
                    m.put("sealed", p.sealed());
                    m.put("lockedUntil", p.lockedUntil().map(Instant::toString).orElse(null));
                    list.add(m);
                }
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("ok", true);
                m.put("points", list);
                out.json(m);
            } else if (points.isEmpty()) {
                out.line("no restore points of node " + common.node());
            } else {
                out.line(String.format("%-40s %-40s %10s %10s %s", "POINT", "DEVICE", "SIZE", "SENT", "IMMUTABLE UNTIL"));
                for (PointSummary p : points) {
                    out.line(String.format("%-40s %-40s %10s %10s %s", p.ref().pointId(), p.device().stableId(),
                            ProgressPrinter.size(p.device().sizeBytes()), ProgressPrinter.size(p.stats().sentBytes()),
                            p.lockedUntil().map(Instant::toString).orElse(p.sealed() ? "-" : "(not sealed yet)")));
                }
            }
        }
        return 0;
    }
}
