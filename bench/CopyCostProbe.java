import io.tidemark.events.layout.Compression;
import io.tidemark.shim.backup.PageChecksums;
import io.tidemark.shim.storage.Codec;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;

/**
 * Where a backup and a restore of one large file spend their CPU, one step at a time on one
 * thread, with the shim's own code (Codec, PageChecksums) and the JDK's SHA-256: reading the file
 * (page cache), SHA-256, page checksums, zstd level 1 compression of 1 MB blocks, their
 * decompression, and writing them back (positioned writes to a temp file, no fsync). Each step is
 * run ROUNDS times after one warm-up round; the best round's CPU time of the thread is reported
 * (MB/s of original bytes per CPU second: comparable on a loaded machine), and its wall time.
 *
 *   java -cp node-shim/target/tidemark-node-shim.jar bench/CopyCostProbe.java FILE [ROUNDS]
 *   (bench/sidebyside-bench.sh prints this for the largest relation file with PROBE=1)
 */
public class CopyCostProbe {
    interface Step {
        void run(List<byte[]> raw, List<byte[]> compressed) throws Exception;
    }

    public static void main(String[] args) throws Exception {
        Path file = Path.of(args[0]);
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        int block = 1 << 20;
        List<byte[]> raw = new ArrayList<>();
        long size = 0;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer b = ByteBuffer.allocate(block);
            while (ch.read(b.clear()) > 0 || b.position() > 0) {
                byte[] copy = new byte[b.position()];
                b.flip().get(copy);
                raw.add(copy);
                size += copy.length;
                if (copy.length < block) {
                    break;
                }
            }
        }
        List<byte[]> compressed = new ArrayList<>();
        for (byte[] r : raw) {
            compressed.add(Codec.compress(Compression.ZSTD, 1, r));
        }
        RAW = raw;
        COMPRESSED = compressed;
        long stored = compressed.stream().mapToLong(c -> c.length).sum();
        System.out.printf("file %s: %,d bytes in %d blocks of 1 MB, zstd-1 %,d bytes (%.1f %%)%n", file, size, raw.size(),
                stored, 100.0 * stored / size);
        Path tmp = java.nio.file.Files.createTempFile("copycost", ".tmp");
        try {
            step("read (page cache)", size, rounds, (r, c) -> {
                try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
                    ByteBuffer b = ByteBuffer.allocate(block);
                    while (ch.read(b.clear()) > 0) {
                        // read only
                    }
                }
            });
            step("SHA-256 (JDK)", size, rounds, (r, c) -> {
                MessageDigest d = MessageDigest.getInstance("SHA-256");
                for (byte[] x : r) {
                    d.update(x);
                }
                d.digest();
            });
            step("page checksums", size, rounds, (r, c) -> {
                long page = 0;
                for (byte[] x : r) {
                    PageChecksums.verifyFrom(x, x.length, page, -1L);
                    page += x.length / PageChecksums.PAGE_SIZE;
                }
            });
            step("zstd-1 compress", size, rounds, (r, c) -> {
                for (byte[] x : r) {
                    Codec.compress(Compression.ZSTD, 1, x);
                }
            });
            step("zstd decompress", size, rounds, (r, c) -> {
                for (byte[] x : c) {
                    Codec.decompress(Compression.ZSTD, x);
                }
            });
            step("positioned write (no fsync)", size, rounds, (r, c) -> {
                try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                    long pos = 0;
                    for (byte[] x : r) {
                        ByteBuffer b = ByteBuffer.wrap(x);
                        while (b.hasRemaining()) {
                            pos += ch.write(b, pos);
                        }
                    }
                }
            });
            long t0 = System.nanoTime(); // what the last write left dirty
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                ch.force(true);
            }
            System.out.printf("  %-28s %8.2f s for the whole file, after its last write%n", "fsync", (System.nanoTime() - t0) / 1e9);
        } finally {
            java.nio.file.Files.deleteIfExists(tmp);
        }
    }

    static void step(String name, long size, int rounds, Step s) throws Exception {
        List<byte[]> raw = RAW;
        s.run(raw, COMPRESSED); // warm-up (C2)
        java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
        long best = Long.MAX_VALUE;
        long bestWall = Long.MAX_VALUE;
        for (int i = 0; i < rounds; i++) {
            long c0 = mx.getCurrentThreadCpuTime();
            long t0 = System.nanoTime();
            s.run(raw, COMPRESSED);
            bestWall = Math.min(bestWall, System.nanoTime() - t0);
            best = Math.min(best, mx.getCurrentThreadCpuTime() - c0);
        }
        // CPU time of this thread (user + system): what the step costs, whatever else runs on the machine
        System.out.printf("  %-28s %8.0f MB/s of CPU  (%.2f CPU s per GB; wall %.2f s per GB)%n", name,
                size / 1e6 / (best / 1e9), best / 1e9 * (1e9 / size), bestWall / 1e9 * (1e9 / size));
    }

    static List<byte[]> RAW;
    static List<byte[]> COMPRESSED;
}
