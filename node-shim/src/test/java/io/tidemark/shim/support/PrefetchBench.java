package io.tidemark.shim.support;

import io.tidemark.localcloud.LocalCloud;
import io.tidemark.shim.archivepush.ArchivePushCommand;
import io.tidemark.testkit.wal.SyntheticWal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Harness for docs/restore.md's prefetch numbers (run by hand, not a test): a local cloud with N
 * synthetic 16 MB segments of stanza {@code pf} archived, and two configurations, prefetch off
 * ({@code off.conf}) and on ({@code on.conf}), for timing {@code bin/tidemark archive-get} per
 * segment as PostgreSQL would run it. Args: DIR N.
 */
public final class PrefetchBench {
    private PrefetchBench() {
    }

    public static void main(String[] args) throws Exception {
        Path out = Path.of(args[0]);
        int n = Integer.parseInt(args[1]);
        Files.createDirectories(out);
        FakeCatalog catalog = new FakeCatalog();
        catalog.put("pf", FakeCatalog.document("pf", Long.toUnsignedString(Segments.SYSID), 150018, 16 << 20));
        LocalCloud cloud = TestCloud.start(out.resolve("cloud"), catalog);
        Path off = TestCloud.config(cloud, out, Map.of("stanza", "pf", "spool.dir", out.resolve("spool-off").toString(),
                "archive-get.prefetch", "0"));
        Path on = TestCloud.config(cloud, out, Map.of("stanza", "pf", "spool.dir", out.resolve("spool-on").toString(),
                "archive-get.prefetch", "8"));
        Files.move(off, out.resolve("off.conf"));
        Files.move(on, out.resolve("on.conf"));
        Path wal = Files.createDirectories(out.resolve("wal"));
        for (int i = 0; i < n; i++) {
            SyntheticWal w = new SyntheticWal(SyntheticWal.PG15, 16 << 20, 8192, 1, 16 + i, Segments.SYSID);
            for (int c = 0; c < 20000; c++) {
                w.commit(1000 + c, 1_790_000_000_000_000L + c);
            }
            w.switchSegment();
            Path f = wal.resolve(String.format("0000000100000000%08X", 16 + i));
            Files.write(f, w.segment(0));
            Shim.Run r = Shim.run(new ArchivePushCommand(Map.of()), f.toString(), "--config", out.resolve("off.conf").toString());
            if (r.code() != 0) {
                throw new IllegalStateException(r.err());
            }
        }
        System.out.println("ready: " + out);
        Thread.sleep(Long.MAX_VALUE);
    }
}
