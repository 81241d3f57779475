package io.tidemark.shim.archiveget;

import io.tidemark.events.layout.Compression;
import io.tidemark.events.layout.Decompression;
import io.tidemark.shim.archivepush.ArchivePushCommand;
import io.tidemark.shim.storage.ObjectStore;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.function.BooleanSupplier;

/**
 * One WAL segment streamed from its object into a spool file: the response body is read through
 * the decompressor in bounded pieces (one work buffer per thread, reused), each piece hashed and
 * written to the spool's temp file as it comes, so that no object and no segment is ever held
 * whole in memory (a 1 GB segment takes the same few MB as a 1 MB one) and nothing is copied
 * twice. Only once the whole object has been read and every check passed (stored size, the
 * segment's length, the SHA-256 of the decompressed bytes) is the temp file renamed to the
 * segment's name ({@link AtomicFile#write(Path, AtomicFile.Content, boolean)}); a check that fails,
 * a read cut short, or a process killed mid-stream leaves only a temp file, never a file under
 * the segment's name. The checks are archive-get's ({@link ArchiveGetCommand#fetch} without a
 * plan: the SHA-256 in the object's metadata; {@link ArchiveGetCommand#fetchListed} with one:
 * the pinned version, the plan's stored size and SHA-256), made while streaming.
 */
final class SpoolDownload {
    /** The work buffer of each download thread: big enough that a read is one native call for zstd, small enough to keep. */
    static final int BUFFER = 1 << 20;
    private static final ThreadLocal<byte[]> WORK = ThreadLocal.withInitial(() -> new byte[BUFFER]);

    /** Where the time of one download went (nanoseconds), for {@code prefetch.log} when timing is asked for. */
    static final class Timing {
        long open;
        long network;
        long decompress;
        long sha;
        long write;
        long finish;
        long stored;
        long raw;

        String line(long total) {
            return String.format(java.util.Locale.ROOT,
                    "total=%d open=%d network=%d decompress=%d sha=%d write=%d finish=%d (ms) stored=%d raw=%d",
                    ms(total), ms(open), ms(network), ms(decompress), ms(sha), ms(write), ms(finish), stored, raw);
        }

        private static long ms(long ns) {
            return ns / 1_000_000;
        }
    }

    /**
     * What the object must hold: exactly {@code rawLength} bytes once decompressed whose SHA-256 is
     * {@code sha256} (null: the SHA-256 in the object's metadata, which must be there), stored in
     * {@code storedSize} bytes (0: not checked). {@code at} starts every message, {@code needs} ends it.
     */
    record Expect(Compression compression, long storedSize, String sha256, long rawLength, String at, String needs) {
    }

    private SpoolDownload() {
    }

    /**
     * Streams {@code object} into {@code target} (a spool file name) as {@code expect} says; throws
     * naming what is wrong, and then {@code target} is left as it was. {@code keep} is asked last,
     * just before the rename: false (a restore began another generation meanwhile) keeps nothing
     * and answers false.
     */
    static boolean into(Path target, ObjectStore.Opened object, Expect expect, boolean durable, BooleanSupplier keep,
                        Timing t) throws IOException {
        String sha = expect.sha256() != null ? expect.sha256() : object.metadata().get(ArchivePushCommand.META_SHA256);
        if (sha == null) {
            throw new IOException(expect.at() + "has no sha256 metadata: not written by tidemark; refusing to restore it"
                    + " unverified" + expect.needs());
        }
        long maxStored = expect.storedSize() > 0 ? expect.storedSize()
                : Decompression.maxStoredSize(expect.compression(), expect.rawLength());
        Metered stored = new Metered(object.body(), maxStored, expect, t);
        boolean[] kept = {false};
        boolean done = false;
        try {
            long f0 = System.nanoTime();
            long[] content = {0};
            AtomicFile.write(target, ch -> {
                long c0 = System.nanoTime();
                copy(stored, ch, sha, expect, t);
                content[0] = System.nanoTime() - c0;
                if (!keep.getAsBoolean()) {
                    throw new NotKept();
                }
                kept[0] = true;
            }, durable);
            t.finish += System.nanoTime() - f0 - content[0];
            done = true;
        } catch (NotKept e) {
            done = true;
            return false;
        } finally {
            if (!done) {
                object.abort().run(); // refused mid-stream: the rest of the body is not read
            }
        }
        return kept[0];
    }

    /** Thrown from inside the write to drop the temp file when the download is no longer wanted. */
    private static final class NotKept extends IOException {
        NotKept() {
            super(null, null);
        }
    }

    private static void copy(Metered stored, FileChannel ch, String sha, Expect expect, Timing t) throws IOException {
        MessageDigest digest;
        try {
            digest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        byte[] buf = WORK.get();
        long raw = 0;
        try (InputStream in = decompressing(stored, expect)) {
            while (true) {
                long r0 = System.nanoTime();
                long net0 = t.network;
                int n;
                try {
                    n = in.readNBytes(buf, 0, buf.length);
                } catch (Metered.Refused e) {
                    throw e;
                } catch (IOException | RuntimeException e) {
                    if (stored.failedRead) {
                        throw e; // the connection, not the data: said as it is
                    }
                    throw new IOException(expect.at() + "damaged: it does not decompress (" + e.getMessage() + ")"
                            + expect.needs(), e);
                }
                t.decompress += System.nanoTime() - r0 - (t.network - net0);
                if (n <= 0) {
                    break;
                }
                raw += n;
                if (raw > expect.rawLength()) {
                    throw new IOException(expect.at() + "damaged: it holds more than " + expect.rawLength()
                            + " bytes, not a segment of that size" + expect.needs());
                }
                long s0 = System.nanoTime();
                digest.update(buf, 0, n);
                long w0 = System.nanoTime();
                t.sha += w0 - s0;
                ByteBuffer b = ByteBuffer.wrap(buf, 0, n);
                while (b.hasRemaining()) {
                    ch.write(b);
                }
                t.write += System.nanoTime() - w0;
            }
        }
        t.stored += stored.bytes;
        t.raw += raw;
        if (expect.storedSize() > 0 && stored.bytes != expect.storedSize()) {
            throw new IOException(expect.at() + "damaged: the object is " + stored.bytes + " bytes, the plan says "
                    + expect.storedSize() + expect.needs());
        }
        if (raw != expect.rawLength()) {
            throw new IOException(expect.at() + "damaged: it holds " + raw + " bytes, not a " + expect.rawLength()
                    + "-byte segment" + expect.needs());
        }
        String actual = HexFormat.of().formatHex(digest.digest());
        if (!actual.equals(sha)) {
            throw new IOException(expect.at() + "damaged: SHA-256 of its content is " + actual + ", "
                    + (expect.sha256() != null ? "the plan says " : "archived as ") + sha + expect.needs());
        }
    }

    private static InputStream decompressing(Metered stored, Expect expect) throws IOException {
        try {
            return Decompression.decompressing(expect.compression(), stored);
        } catch (IOException e) {
            if (stored.failedRead) {
                throw e;
            }
            throw new IOException(expect.at() + "damaged: it does not decompress (" + e.getMessage() + ")" + expect.needs(), e);
        }
    }

    /** The stored bytes as they arrive: counted, bounded by what the object may hold, the time spent waiting timed. */
    private static final class Metered extends FilterInputStream {
        private final long max;
        private final Expect expect;
        private final Timing t;
        long bytes;
        boolean failedRead;

        /** More stored bytes than the object may hold: refused as soon as seen. */
        static final class Refused extends IOException {
            Refused(String message) {
                super(message);
            }
        }

        Metered(InputStream in, long max, Expect expect, Timing t) {
            super(in);
            this.max = max;
            this.expect = expect;
            this.t = t;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            long t0 = System.nanoTime();
            int n;
            try {
                n = super.read(b, off, len);
            } catch (IOException | RuntimeException e) {
                failedRead = true;
                throw new IOException(expect.at() + "download failed: " + e.getMessage(), e);
            } finally {
                t.network += System.nanoTime() - t0;
            }
            if (n > 0) {
                bytes += n;
                if (bytes > max) {
                    throw new Refused(expect.at() + "damaged: the object is more than " + max + " bytes"
                            + (expect.storedSize() > 0 ? ", the plan says " + expect.storedSize() : "") + expect.needs());
                }
            }
            return n;
        }
    }
}
