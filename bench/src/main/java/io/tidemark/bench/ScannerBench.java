package io.tidemark.bench;

import io.tidemark.events.wal.scan.WalScanner;
import io.tidemark.events.wal.scan.WalSegmentSummary;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Scanner throughput on one core: scans real 16 MB segments (CRC-32C of every record on)
 * from memory, repeatedly, and reports MB/s per round and the median. Run by hand:
 *
 * <pre>java -jar bench/target/tidemark-bench.jar SEGMENT... [--seconds N]</pre>
 *
 * Only segments the scanner reads to their end count: a benchmark of a scan that stopped
 * early would measure nothing.
 */
public final class ScannerBench {
    private ScannerBench() {
    }

    public static void main(String[] args) throws IOException {
        List<byte[]> segments = new ArrayList<>();
        List<String> names = new ArrayList<>();
        int seconds = 20;
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--seconds")) {
                seconds = Integer.parseInt(args[++i]);
            } else {
                Path p = Path.of(args[i]);
                segments.add(Files.readAllBytes(p));
                names.add(p.getFileName().toString());
            }
        }
        if (segments.isEmpty()) {
            System.err.println("usage: ScannerBench SEGMENT... [--seconds N]");
            System.exit(2);
        }
        long totalRecords = 0;
        for (int i = 0; i < segments.size(); i++) {
            WalSegmentSummary s = WalScanner.scan(segments.get(i), segments.get(i).length, names.get(i), null);
            if (!s.isComplete()) {
                System.err.println(names.get(i) + ": scan stopped early (" + s.stopReason() + "): not a fair input");
                System.exit(1);
            }
            totalRecords += s.records();
            System.out.printf("%s: %d records, stop %s at %s%n", names.get(i), s.records(), s.stopReason().jsonName(), s.stopLsn());
        }
        long bytesPerRound = segments.stream().mapToLong(b -> b.length).sum();
        System.out.printf("input: %d segment(s), %d MB, %d records; %s, %d s%n", segments.size(),
                bytesPerRound >> 20, totalRecords, System.getProperty("java.vm.version"), seconds);

        long warmupEnd = System.nanoTime() + 5_000_000_000L;
        long sink = 0;
        while (System.nanoTime() < warmupEnd) {
            for (int i = 0; i < segments.size(); i++) {
                sink += WalScanner.scan(segments.get(i), segments.get(i).length, names.get(i), null).records();
            }
        }
        List<Double> rates = new ArrayList<>();
        long end = System.nanoTime() + seconds * 1_000_000_000L;
        while (System.nanoTime() < end) {
            long t0 = System.nanoTime();
            for (int i = 0; i < segments.size(); i++) {
                sink += WalScanner.scan(segments.get(i), segments.get(i).length, names.get(i), null).records();
            }
            long dt = System.nanoTime() - t0;
            rates.add(bytesPerRound / (dt / 1e9) / 1e6);
        }
        double[] sorted = rates.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        System.out.printf("rounds %d; MB/s (1 MB = 10^6 bytes): min %.0f, median %.0f, max %.0f (sink %d)%n",
                sorted.length, sorted[0], sorted[sorted.length / 2], sorted[sorted.length - 1], sink);
    }
}
