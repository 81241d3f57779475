// Probe: system CPU of writing 1 GB into a fresh file from a 1 MB heap block, by write size (BlockFiles.WRITE_SLICE).
//   java -Xmx256m bench/WriteProbe.java DIR heap|direct SLICE_BYTES     (two rounds; the second is the figure)
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.*;
import java.lang.management.*;
import java.security.MessageDigest;

public class WriteProbe {
    public static void main(String[] a) throws Exception {
        Path dir = Path.of(a[0]);
        String mode = a[1];
        int slice = Integer.parseInt(a[2]);
        long total = 1L << 30;
        int block = 1 << 20;
        byte[] raw = new byte[block];
        new java.util.Random(1).nextBytes(raw);
        ByteBuffer direct = ByteBuffer.allocateDirect(block);
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        com.sun.management.ThreadMXBean tb = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        for (int round = 0; round < 2; round++) {
            Path f = dir.resolve("probe-" + mode + round);
            Files.deleteIfExists(f);
            long c0 = tb.getCurrentThreadCpuTime(), u0 = tb.getCurrentThreadUserTime();
            long t0 = System.nanoTime();
            try (FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                for (long pos = 0; pos < total; pos += block) {
                    raw[0]++; // touch
                    sha.update(raw, 0, block);
                    sha.digest();
                    if (mode.equals("heap")) {
                        for (int off = 0; off < block; off += slice) {
                            ByteBuffer b = ByteBuffer.wrap(raw, off, Math.min(slice, block - off));
                            long p = pos + off;
                            while (b.hasRemaining()) p += ch.write(b, p);
                        }
                    } else {
                        direct.clear(); direct.put(raw); direct.flip();
                        for (int off = 0; off < block; off += slice) {
                            ByteBuffer b = direct.slice(off, Math.min(slice, block - off));
                            long p = pos + off;
                            while (b.hasRemaining()) p += ch.write(b, p);
                        }
                    }
                }
            }
            long c1 = tb.getCurrentThreadCpuTime(), u1 = tb.getCurrentThreadUserTime();
            System.out.printf("%s slice %d: wall %.2f s, user %.2f s, sys %.2f s%n", mode, slice, (System.nanoTime() - t0) / 1e9,
                    (u1 - u0) / 1e9, ((c1 - c0) - (u1 - u0)) / 1e9);
            Files.delete(f);
        }
    }
}
