package io.blockvault.repository.store;

import io.blockvault.repository.client.PointRef;
import io.blockvault.repository.client.PointSummary;
import io.blockvault.repository.client.VerifyReport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code verify}: re-reads the chunks of restore points on the repository host, read-only. */
@Command(name = "verify", mixinStandardHelpOptions = true,
        description = "Re-read and check every chunk of the repository's restore points (read-only; exit 1 when "
                + "anything is damaged).")
public final class VerifyCommand implements Callable<Integer> {

    @Option(names = "--root", required = true, description = "Repository root directory.")
    Path root;

    @Option(names = "--node", description = "Only this node's restore points.")
    String node;

    @Override
    public Integer call() throws Exception {
        RepositoryLayout layout = new RepositoryLayout(root);
        if (!Files.isDirectory(layout.store()) && !Files.isDirectory(layout.incoming())) {
            System.err.println("error: " + root + " is not a blockvault repository (no store/ or incoming/)");
            return 1;
        }
        RepositoryStore store = new RepositoryStore(layout, StoreLimits.DEFAULT);
        List<PointRef> points = store.listPoints(Optional.ofNullable(node)).stream().map(PointSummary::ref).toList();
        VerifyReport r = store.verify(points);
        for (VerifyReport.DamagedChunk d : r.damaged()) {
            System.out.println("DAMAGED chunk " + d.id() + ": " + d.problem() + "; needed by " + d.points());
        }
        for (PointRef p : r.brokenPoints()) {
            System.out.println("BROKEN restore point " + p);
        }
        System.out.println("verified " + r.pointsChecked() + " restore points, " + r.chunksChecked() + " chunks: "
                + (r.healthy() ? "all good" : r.damaged().size() + " damaged chunks, " + r.brokenPoints().size()
                + " restore points cannot be restored whole"));
        return r.healthy() ? 0 : 1;
    }
}
