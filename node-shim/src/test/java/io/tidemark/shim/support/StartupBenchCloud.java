package io.tidemark.shim.support;

import io.tidemark.localcloud.LocalCloud;
import io.tidemark.testkit.PgCluster;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Hand-run harness for docs/startup.md: makes real 16 MB WAL segments with PostgreSQL, copies
 * them to {@code OUT/wal}, starts a local cloud whose stanza routes answer for stanzas
 * bench1..bench50 of that cluster, writes {@code OUT/tidemark.conf}, and runs until killed.
 *
 * <pre>java -cp TEST_CLASSPATH io.tidemark.shim.support.StartupBenchCloud OUT [SEGMENTS]</pre>
 */
public final class StartupBenchCloud {
    private StartupBenchCloud() {
    }

    public static void main(String[] args) throws Exception {
        Path out = Path.of(args[0]).toAbsolutePath();
        int wanted = args.length > 1 ? Integer.parseInt(args[1]) : 24;
        Path walOut = out.resolve("wal");
        Files.createDirectories(walOut);
        long sysid;
        try (PgCluster pg = PgCluster.builder().setting("max_wal_size", "4GB").build().start()) {
            sysid = pg.systemIdentifier();
            pg.sql("create table t (id int, v text, w text)");
            String first = pg.currentWalFile();
            String last;
            while (true) {
                pg.sql("insert into t select g, md5(g::text), repeat(md5((g * 7)::text), 3) from generate_series(1, 300000) g;"
                        + " update t set v = md5(v) where id % 5 = 0");
                String now = pg.currentWalFile();
                if (Long.parseLong(now.substring(16), 16) - Long.parseLong(first.substring(16), 16) > wanted) {
                    last = now;
                    break;
                }
            }
            List<Path> segs;
            try (Stream<Path> s = Files.list(pg.walDir())) {
                segs = s.filter(p -> p.getFileName().toString().matches("[0-9A-F]{24}"))
                        .filter(p -> p.getFileName().toString().compareTo(first) >= 0)
                        .filter(p -> p.getFileName().toString().compareTo(last) < 0).sorted().toList();
            }
            for (Path p : segs.subList(0, Math.min(wanted, segs.size()))) {
                Files.copy(p, walOut.resolve(p.getFileName()));
            }
        }
        FakeCatalog catalog = new FakeCatalog();
        for (int i = 1; i <= 50; i++) {
            catalog.put("bench" + i, FakeCatalog.document("bench" + i, Long.toUnsignedString(sysid), 150000, 16 << 20));
        }
        LocalCloud cloud = TestCloud.start(out.resolve("cloud"), catalog);
        Path conf = out.resolve("tidemark.conf");
        Files.writeString(conf, "");
        Files.delete(conf);
        Files.move(TestCloud.config(cloud, out, Map.of("spool.dir", out.resolve("spool").toString())), conf);
        System.out.println("ready: " + conf + " " + walOut);
        Thread.sleep(Long.MAX_VALUE);
    }
}
