package io.blockvault.agent.cli;

import io.blockvault.repository.client.ChunkSink;
import io.blockvault.repository.client.PointRef;
import io.blockvault.repository.client.PointSummary;
import io.blockvault.repository.client.Repository;
import io.blockvault.repository.client.RestoreListener;
import io.blockvault.repository.client.RestoreReader;
import io.blockvault.repository.format.RestorePointIndex;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "verify", mixinStandardHelpOptions = true,
        description = "Read every chunk of restore points and check it as a restore would (checksum, authentication "
                + "tag, id); nothing is written. Exit 1 when any point is damaged.")
public final class VerifyCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Mixin
    CommonOptions common;

    @Option(names = "--point", paramLabel = "ID", description = "point to verify (repeatable; default: all of the "
            + "node)")
    List<String> points;

    @Option(names = "--fetches", paramLabel = "N", defaultValue = "4", description = "chunk streams in flight")
    int fetches;

    @Override
    public Integer call() throws Exception {
        List<Map<String, Object>> results = new ArrayList<>();
        boolean healthy = true;
        Output out = new Output(System.out);
        try (Repository repo = common.repository.open(spec.commandLine())) {
            List<String> ids = points;
            if (ids == null || ids.isEmpty()) {
                ids = repo.listPoints(Optional.of(common.node())).stream().map(PointSummary::ref)
                        .map(PointRef::pointId).toList();
            }
            RestoreReader reader = new RestoreReader(repo, common.repository.codec(), 8, Math.max(1, fetches), 2000);
            for (String id : ids) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("pointId", id);
                try {
                    RestorePointIndex idx = repo.readPoint(new PointRef(common.node(), id));
                    long bytes = reader.restore(idx, DISCARD, Optional.empty(), true, RestoreListener.NONE);
                    m.put("ok", true);
                    m.put("chunks", idx.chunks().size());
                    m.put("verifiedBytes", bytes);
                    if (!common.json) {
                        out.line("ok       " + id + " (" + idx.chunks().size() + " chunks, "
                                + ProgressPrinter.size(bytes) + " of data)");
                    }
                } catch (IOException e) {
                    healthy = false;
                    m.put("ok", false);
                    m.put("error", e.getMessage());
                    if (!common.json) {
                        out.line("DAMAGED  " + id + ": " + e.getMessage());
                    }
                }
                results.add(m);
            }
        }
        if (common.json) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("ok", healthy);
            m.put("points", results);
            out.json(m);
        } else if (!healthy) {
            System.err.println("error: some restore points are damaged; restore from another point and run the "
                    + "repository's verify for details");
        }
        return healthy ? 0 : 1;
    }

    private static final ChunkSink DISCARD = new ChunkSink() {
        @Override
        public void write(long offset, byte[] data, int length) {
            // verified by the reader; nothing to keep
        }

        @Override
        public void zero(long offset, long length) {
            // nothing to keep
        }

        @Override
        public void finish() {
            // nothing to flush
        }
    };
}
