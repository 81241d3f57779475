import io.tidemark.events.layout.Compression;
import io.tidemark.shim.storage.Codec;
import io.tidemark.shim.storage.CreateOnly;
import java.lang.management.ManagementFactory;

/**
 * One cold zstd decompression and one SHA-256 of SIZE MB, as a per-call JVM (archive-get,
 * archive-push) does them once: wall time, the CPU of this thread and of the whole process (the
 * JIT's threads too), under whatever JVM flags it is started with (docs/startup.md, JIT flags of
 * the per-segment JVMs). The buffer is random nibbles in every other byte: it compresses about as
 * a busy server's WAL. Compile it against the shim, then start it with the flags to compare:
 *
 *   javac -cp node-shim/target/tidemark-node-shim.jar -d /tmp/probe bench/HashProbe.java
 *   java -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -cp node-shim/target/tidemark-node-shim.jar:/tmp/probe HashProbe 16
 */
public class HashProbe {
    static long processCpu() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    }

    static long threadCpu() {
        return ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime();
    }

    public static void main(String[] a) throws Exception {
        int mb = Integer.parseInt(a[0]);
        byte[] raw = new byte[mb << 20];
        java.util.Random r = new java.util.Random(1);
        for (int i = 0; i < raw.length; i += 2) {
            raw[i] = (byte) r.nextInt(16);
        }
        byte[] z = Codec.compress(Compression.ZSTD, 1, raw);
        processCpu();
        threadCpu();
        long p0 = processCpu(), c0 = threadCpu(), t0 = System.nanoTime();
        byte[] back = Codec.decompress(Compression.ZSTD, z);
        long c1 = threadCpu(), t1 = System.nanoTime();
        long p1 = processCpu();
        String h = CreateOnly.sha256(back);
        long p2 = processCpu(), c2 = threadCpu(), t2 = System.nanoTime();
        System.out.printf("zstd wall %.0f cpu %.0f | sha wall %.0f thread-cpu %.0f process-cpu %.0f ms (%s)%n",
                (t1 - t0) / 1e6, (c1 - c0) / 1e6, (t2 - t1) / 1e6, (c2 - c1) / 1e6, (p2 - p1) / 1e6, h.substring(0, 8));
    }
}
