package io.tidemark.shim.archiveget;

import io.tidemark.events.layout.StanzaName;
import io.tidemark.events.wal.WalSegmentName;
import io.tidemark.events.wal.WalSegmentSize;
import io.tidemark.localcloud.LocalCloud;
import io.tidemark.shim.archivepush.ArchivePushCommand;
import io.tidemark.shim.config.ShimConfig;
import io.tidemark.shim.config.CommonOptions;
import io.tidemark.shim.storage.CredentialSource;
import io.tidemark.shim.storage.ObjectStore;
import io.tidemark.shim.storage.Stores;
import io.tidemark.shim.support.FakeCatalog;
import io.tidemark.shim.support.Segments;
import io.tidemark.shim.support.Shim;
import io.tidemark.shim.support.TestCloud;
import io.tidemark.testkit.wal.SyntheticWal;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/**
 * The prefetcher alone, in this JVM, for docs/benchmarks.md's standby catch-up profile (run by hand,
 * not a test): N synthetic segments of SEG_MB MB archived to a local cloud, then for each number of
 * download threads and with and without an fsync per file, a prefetcher started after the first
 * and a "recovery" that takes each segment from the spool as soon as it is there (as the launcher
 * does: a rename into pg_wal), the file then deleted. Prints the wall time, MB/s and the sum of the
 * per-segment timing lines (where each download's time went). Args: DIR N SEG_MB [THREADS,...].
 */
public final class PrefetchThroughputBench {
    private PrefetchThroughputBench() {
    }

    public static void main(String[] args) throws Exception {
        Path out = Path.of(args[0]);
        int n = Integer.parseInt(args[1]);
        int segMb = Integer.parseInt(args[2]);
        String[] threadCounts = (args.length > 3 ? args[3] : "2,4,8").split(",");
        Files.createDirectories(out);
        WalSegmentSize size = WalSegmentSize.ofMegabytes(segMb);
        FakeCatalog catalog = new FakeCatalog();
        catalog.put("tp", FakeCatalog.document("tp", Long.toUnsignedString(Segments.SYSID), 150018, size.bytes()));
        LocalCloud cloud = TestCloud.start(out.resolve("cloud"), catalog);
        Path conf = TestCloud.config(cloud, out, Map.of("stanza", "tp", "spool.dir", out.resolve("spool").toString(),
                "archive-get.prefetch", "8"));
        Path wal = Files.createDirectories(out.resolve("wal"));
        for (int i = 0; i <= n; i++) {
            SyntheticWal w = new SyntheticWal(SyntheticWal.PG15, size.bytes(), 8192, 1, 16 + i, Segments.SYSID);
            // one row and a switch, as the benchmark's primary writes: mostly zeros
            for (int c = 0; c < 10; c++) {
                w.commit(1000 + c, 1_790_000_000_000_000L + c);
            }
            w.switchSegment();
            Path f = wal.resolve(name(i, size));
            Files.write(f, w.segment(0));
            Shim.Run r = Shim.run(new ArchivePushCommand(Map.of()), f.toString(), "--config", conf.toString());
            if (r.code() != 0) {
                throw new IllegalStateException(r.err());
            }
            Files.delete(f);
        }
        ShimConfig config = ShimConfig.load(CommonOptions.parse("--config", conf.toString()), Map.of());
        System.out.printf("%d segments of %d MB, load %s%n", n, segMb,
                Files.readString(Path.of("/proc/loadavg")).split(" ")[0]);
        for (String fsync : new String[] {"false", "true"}) {
            for (String threads : threadCounts) {
                System.setProperty("tidemark.prefetch.threads", threads);
                System.setProperty("tidemark.prefetch.fsync", fsync);
                System.setProperty("tidemark.prefetch.timing", "true");
                run(config, size, n, out, "threads=" + threads + " fsync=" + fsync);
            }
        }
        cloud.close();
    }

    private static String name(int i, WalSegmentSize size) {
        return WalSegmentName.parse(String.format("0000000100000000%08X", 16 + i), size).toString();
    }

    private static void run(ShimConfig config, WalSegmentSize size, int n, Path out, String label) throws Exception {
        PrefetchSpool spool = PrefetchSpool.open(config.spoolDir(), StanzaName.of("tp")).orElseThrow();
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        Path pgWal = Files.createDirectories(out.resolve("pg_wal"));
        WalSegmentName first = WalSegmentName.parse(name(0, size), size);
        spool.noteRequested(first);
        Thread t;
        try (ObjectStore store = Stores.open(config, CredentialSource.of(config, Map.of()))) {
            Prefetcher p = new Prefetcher(config, store, spool, size, Duration.ofSeconds(2),
                    new PrintStream(log, true, StandardCharsets.UTF_8), Optional.empty());
            t = new Thread(() -> p.run(first));
            t.start();
            long t0 = System.nanoTime();
            WalSegmentName s = first;
            for (int i = 1; i <= n; i++) {
                s = s.next();
                Path target = pgWal.resolve("RECOVERYXLOG");
                while (!spool.takeInto(s, target, Optional.empty())) {
                    Thread.sleep(1);
                }
                spool.noteRequested(s);
                Files.delete(target);
            }
            long ms = (System.nanoTime() - t0) / 1_000_000;
            t.join();
            long[] sum = new long[7];
            String[] keys = {"total", "open", "network", "decompress", "sha", "write", "finish"};
            int lines = 0;
            for (String l : log.toString(StandardCharsets.UTF_8).split("\n")) {
                if (!l.contains(" timing ")) {
                    if (!l.isBlank()) {
                        System.out.println("  log: " + l);
                    }
                    continue;
                }
                lines++;
                for (int k = 0; k < keys.length; k++) {
                    java.util.regex.Matcher m = java.util.regex.Pattern.compile(" " + keys[k] + "=(\\d+)").matcher(l);
                    if (m.find()) {
                        sum[k] += Long.parseLong(m.group(1));
                    }
                }
            }
            StringBuilder b = new StringBuilder();
            for (int k = 0; k < keys.length; k++) {
                b.append(' ').append(keys[k]).append('=').append(lines == 0 ? 0 : sum[k] / lines);
            }
            System.out.printf("%s: %d ms, %.1f MB/s; per download (ms, mean of %d):%s%n", label, ms,
                    (double) n * size.bytes() / (1 << 20) / (ms / 1000.0), lines, b);
        }
    }
}
