package io.tidemark.shim.archiveget;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tidemark.events.layout.Compression;
import io.tidemark.events.layout.StanzaName;
import io.tidemark.events.plan.PlanWal;
import io.tidemark.events.plan.PlanWalRange;
import io.tidemark.events.wal.WalSegmentName;
import io.tidemark.events.wal.WalSegmentSize;
import io.tidemark.shim.archivepush.ArchivePushCommand;
import io.tidemark.shim.config.CommonOptions;
import io.tidemark.shim.config.ShimConfig;
import io.tidemark.shim.storage.CredentialSource;
import io.tidemark.shim.storage.ObjectStore;
import io.tidemark.shim.storage.Stores;
import io.tidemark.shim.support.FakeCatalog;
import io.tidemark.shim.support.FakeJavaLauncher;
import io.tidemark.shim.support.PlanFixture;
import io.tidemark.shim.support.Segments;
import io.tidemark.shim.support.Shim;
import io.tidemark.shim.support.TestCloud;
import java.io.ByteArrayOutputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.sync.RequestBody;

/**
 * How the prefetcher downloads and writes (issue 19): a segment streamed into the spool is visible
 * under its name only once whole and verified; a stream cut short or damaged midway leaves nothing
 * servable; the spool is served only in the boot that wrote it; a restore's prefetcher leaves at
 * promotion and asks the archive nothing more.
 */
@Tag("localcloud")
class PrefetchStreamCloudTest {
    private static final AtomicInteger STANZAS = new AtomicInteger();
    private static final WalSegmentSize SIZE = WalSegmentSize.ofBytes(Segments.SIZE);

    @TempDir
    Path dir;

    private final ByteArrayOutputStream log = new ByteArrayOutputStream();

    private Path setup(String stanza, int prefetch) throws IOException {
        TestCloud.catalog().put(stanza, FakeCatalog.document(stanza, Long.toUnsignedString(Segments.SYSID), 150018,
                Segments.SIZE));
        return TestCloud.config(TestCloud.cloud(), dir, Map.of("stanza", stanza, "spool.dir",
                dir.resolve("spool").toString(), "retries", "1", "archive-get.prefetch", String.valueOf(prefetch),
                "plan.publicKey", PlanFixture.publicKey()));
    }

    private void push(Path conf, int n) throws IOException {
        for (int i = 0; i < n; i++) {
            Path f = dir.resolve(Segments.name(i));
            Files.write(f, Segments.segment(i, 3));
            assertEquals(0, Shim.run(new ArchivePushCommand(Map.of()), f.toString(), "--config", conf.toString()).code());
        }
    }

    private static WalSegmentName seg(int i) {
        return WalSegmentName.parse(Segments.name(i), SIZE);
    }

    private static ShimConfig config(Path conf) {
        return ShimConfig.load(CommonOptions.parse("--config", conf.toString()), Map.of());
    }

    /** The store's requests, and a hook that may replace an opened body. */
    private static final class Watched implements ObjectStore {
        private final ObjectStore store;
        final ConcurrentLinkedQueue<String> keys = new ConcurrentLinkedQueue<>();
        volatile java.util.function.BiFunction<String, InputStream, InputStream> body = (k, in) -> in;

        Watched(ObjectStore store) {
            this.store = store;
        }

        @Override
        public PutOutcome putIfAbsent(String key, byte[] data, Map<String, String> metadata) {
            return store.putIfAbsent(key, data, metadata);
        }

        @Override
        public Optional<Head> head(String key) {
            keys.add(key);
            return store.head(key);
        }

        @Override
        public Optional<Fetched> get(String key) {
            keys.add(key);
            return store.get(key);
        }

        @Override
        public Optional<Fetched> get(String key, String versionId) {
            keys.add(key);
            return store.get(key, versionId);
        }

        @Override
        public Optional<Opened> open(String key, String versionId) {
            keys.add(key);
            return store.open(key, versionId).map(o -> new Opened(body.apply(key, o.body()), o.length(), o.metadata(),
                    o.abort()));
        }

        @Override
        public void close() {
            store.close();
        }
    }

    private Thread start(Prefetcher p, WalSegmentName after) {
        Thread t = new Thread(() -> p.run(after));
        t.setDaemon(true);
        t.start();
        return t;
    }

    private Prefetcher prefetcher(ShimConfig config, ObjectStore store, PrefetchSpool spool, Optional<WalPlan> plan,
                                  Duration idle) {
        return new Prefetcher(config, store, spool, SIZE, idle, new PrintStream(log, true, StandardCharsets.UTF_8), plan);
    }

    private static List<String> spoolFiles(PrefetchSpool spool) throws IOException {
        try (var s = Files.list(spool.dir())) {
            return s.map(f -> f.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void aSegmentIsUnderItsNameOnlyWholeAndVerifiedAndADownloadCutShortLeavesNothing() throws Exception {
        String stanza = "ps" + STANZAS.incrementAndGet();
        Path conf = setup(stanza, 2);
        push(conf, 3);
        ShimConfig config = config(conf);
        PrefetchSpool spool = PrefetchSpool.open(config.spoolDir(), StanzaName.of(stanza)).orElseThrow();
        CountDownLatch halfway = new CountDownLatch(1);
        CountDownLatch cut = new CountDownLatch(1);
        String key1 = stanza + "/wal/0000000100000000/" + Segments.name(1) + ".zst";
        try (Watched store = new Watched(Stores.open(config, CredentialSource.of(config, Map.of())))) {
            // segment 1's body stops after its first bytes until the test says, then the connection "breaks"
            store.body = (k, in) -> !k.equals(key1) ? in : new FilterInputStream(in) {
                private int read;

                @Override
                public int read(byte[] b, int off, int len) throws IOException {
                    if (read >= 16) {
                        halfway.countDown();
                        try {
                            cut.await(30, TimeUnit.SECONDS);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                        throw new IOException("Connection reset");
                    }
                    int n = super.read(b, off, Math.min(len, 16 - read));
                    read += Math.max(n, 0);
                    return n;
                }
            };
            spool.noteRequested(seg(0));
            Thread t = start(prefetcher(config, store, spool, Optional.empty(), Duration.ofSeconds(10)), seg(0));
            assertTrue(halfway.await(30, TimeUnit.SECONDS), "segment 1's download began");
            // mid-stream: a temp file of this process, nothing under the segment's name, nothing to take
            assertFalse(spool.has(seg(1)));
            assertTrue(spoolFiles(spool).stream().anyMatch(f -> f.startsWith("." + Segments.name(1) + ".tidemark.")),
                    spoolFiles(spool).toString());
            Path target = Files.createDirectories(dir.resolve("pg_wal")).resolve("RECOVERYXLOG");
            assertFalse(spool.takeInto(seg(1), target, Optional.empty()), "a download under way is never served");
            cut.countDown();
            for (int i = 0; i < 250 && !log.toString(StandardCharsets.UTF_8).contains("prefetch of " + Segments.name(1)); i++) {
                Thread.sleep(20);
            }
            String l = log.toString(StandardCharsets.UTF_8);
            assertTrue(l.contains("prefetch of " + Segments.name(1) + " failed: " + key1 + ": download failed: Connection reset"), l);
            assertFalse(spool.has(seg(1)));
            assertTrue(spoolFiles(spool).stream().noneMatch(f -> f.startsWith("." + Segments.name(1) + ".tidemark.")),
                    "the cut download's temp file is removed: " + spoolFiles(spool));
            // segment 2 came whole, and is served as it was archived
            for (int i = 0; i < 250 && !spool.has(seg(2)); i++) {
                Thread.sleep(20);
            }
            assertTrue(spool.takeInto(seg(2), target, Optional.empty()));
            assertArrayEquals(Segments.segment(2, 3), Files.readAllBytes(target));
            // the next try reads the whole object: served then
            store.body = (k, in) -> in;
            spool.noteRequested(seg(0));
            for (int i = 0; i < 400 && !spool.has(seg(1)); i++) {
                Thread.sleep(20);
            }
            assertTrue(spool.takeInto(seg(1), target, Optional.empty()), "fetched again after the cut (a failure is retried)");
            assertArrayEquals(Segments.segment(1, 3), Files.readAllBytes(target));
            t.join(20_000);
        }
    }

    @Test
    void anObjectDamagedMidStreamIsRefusedAndNeverSpooled() throws Exception {
        String stanza = "ps" + STANZAS.incrementAndGet();
        Path conf = setup(stanza, 4);
        push(conf, 5);
        // segment 2: its zstd frame cut in the middle; segment 3: a byte flipped in the middle of
        // the frame (both under their own, correct metadata)
        for (int i : new int[] {2, 3}) {
            String key = stanza + "/wal/0000000100000000/" + Segments.name(i) + ".zst";
            byte[] stored = com.github.luben.zstd.Zstd.compress(Segments.segment(i, 3), 1);
            byte[] damaged = i == 2 ? java.util.Arrays.copyOf(stored, stored.length / 2) : stored.clone();
            if (i == 3) {
                damaged[damaged.length / 2] ^= 0x5a;
            }
            try (var s3 = TestCloud.client(TestCloud.cloud())) {
                var head = s3.headObject(b -> b.bucket(TestCloud.cloud().bucket()).key(key));
                s3.putObject(b -> b.bucket(TestCloud.cloud().bucket()).key(key).metadata(head.metadata()),
                        RequestBody.fromBytes(damaged));
            }
        }
        ShimConfig config = config(conf);
        PrefetchSpool spool = PrefetchSpool.open(config.spoolDir(), StanzaName.of(stanza)).orElseThrow();
        try (ObjectStore store = Stores.open(config, CredentialSource.of(config, Map.of()))) {
            spool.noteRequested(seg(0));
            Thread t = start(prefetcher(config, store, spool, Optional.empty(), Duration.ofSeconds(2)), seg(0));
            for (int i = 0; i < 300 && !(spool.has(seg(4)) && log.toString(StandardCharsets.UTF_8).contains(Segments.name(3))
                    && log.toString(StandardCharsets.UTF_8).contains(Segments.name(2))); i++) {
                Thread.sleep(20);
            }
            String l = log.toString(StandardCharsets.UTF_8);
            assertTrue(l.contains("prefetch of " + Segments.name(2) + " failed: ") && l.contains("damaged"), l);
            assertTrue(l.contains("prefetch of " + Segments.name(3) + " failed: ") && l.contains("damaged"), l);
            assertTrue(spool.has(seg(1)) && spool.has(seg(4)), "the whole ones are there: " + spoolFiles(spool));
            assertFalse(spool.has(seg(2)) || spool.has(seg(3)), "a damaged object is never spooled");
            assertTrue(spoolFiles(spool).stream().noneMatch(f -> f.endsWith(".tmp")), "no temp file stays: " + spoolFiles(spool));
            spool.noteRequested(seg(5)); // recovery moved on: the prefetcher idles out
            t.join(20_000);
        }
    }

    @Test
    void aSpoolWrittenInAnotherBootIsNeverServedAndABeginningPrefetcherDropsIt() throws Exception {
        String stanza = "ps" + STANZAS.incrementAndGet();
        Path conf = setup(stanza, 2);
        push(conf, 3);
        PrefetchSpool spool = PrefetchSpool.open(dir.resolve("spool"), StanzaName.of(stanza)).orElseThrow();
        assertTrue(spool.noteBoot(), "this machine says its boot id");
        assertEquals(PrefetchSpool.bootId().orElseThrow() + "\n", Files.readString(spool.dir().resolve(PrefetchSpool.BOOT)));
        // a segment spooled (not fsynced) before the machine crashed and booted again: maybe torn
        byte[] torn = Segments.segment(1, 3);
        java.util.Arrays.fill(torn, torn.length / 2, torn.length, (byte) 0);
        spool.put(seg(1), torn, false);
        Files.writeString(spool.dir().resolve(PrefetchSpool.BOOT), "0f0e0d0c-0b0a-0908-0706-050403020100\n");
        Path pgdata = Files.createDirectories(dir.resolve("pgdata/pg_wal")).getParent();
        // neither the launcher nor the JVM serves it: the launcher hands the call to the JVM ...
        FakeJavaLauncher.assertWentToTheJvm(new FakeJavaLauncher(dir).run(pgdata, "archive-get", Segments.name(1),
                "pg_wal/RECOVERYXLOG", "--config", conf.toString(), "--pgdata", pgdata.toString()));
        assertTrue(spool.has(seg(1)));
        // ... which fetches it from the archive, verified, and starts a prefetcher that drops the rest
        Path target = pgdata.resolve("pg_wal/RECOVERYXLOG");
        ShimConfig config = config(conf);
        java.util.List<Thread> started = new java.util.ArrayList<>();
        PrefetchCommand.Starter starter = (c, s, after, planFile) -> {
            Thread t = new Thread(() -> {
                try (ObjectStore store = Stores.open(c, CredentialSource.of(c, Map.of()))) {
                    prefetcher(c, store, s, Optional.empty(), Duration.ofSeconds(1)).run(after);
                }
            });
            t.setDaemon(true);
            t.start();
            started.add(t);
        };
        Shim.Run r = Shim.run(new ArchiveGetCommand(Map.of(), starter), Segments.name(1), target.toString(),
                "--config", conf.toString());
        assertEquals(0, r.code(), r.err());
        assertArrayEquals(Segments.segment(1, 3), Files.readAllBytes(target), "the archived segment, not the torn copy");
        for (int i = 0; i < 250 && !PrefetchSpool.bootId().orElseThrow().equals(
                Files.readString(spool.dir().resolve(PrefetchSpool.BOOT)).strip()); i++) {
            Thread.sleep(20);
        }
        assertEquals(PrefetchSpool.bootId().orElseThrow(), Files.readString(spool.dir().resolve(PrefetchSpool.BOOT)).strip(),
                "the new prefetcher binds the spool to this boot");
        for (int i = 0; i < 250 && !spool.has(seg(2)); i++) {
            Thread.sleep(20);
        }
        assertTrue(spool.takeInto(seg(2), target, Optional.empty()));
        assertArrayEquals(Segments.segment(2, 3), Files.readAllBytes(target));
        for (Thread t : started) {
            t.join(20_000);
        }
        // a spool whose files are all fsynced (no boot id to bind them to) is served in any boot
        Files.writeString(spool.dir().resolve(PrefetchSpool.BOOT), PrefetchSpool.DURABLE + "\n");
        spool.put(seg(7), Segments.segment(7, 3), true);
        assertTrue(spool.takeInto(seg(7), target, Optional.empty()));
        assertTrue(config.prefetch() > 0);
    }

    /** A signed plan for segments 0..n-1 as {@link #push} archived them, in {@code pgdata}. */
    private Path plan(String stanza, int n, Path pgdata) throws IOException {
        PlanFixture f = new PlanFixture(stanza, null);
        f.walSegmentSize = SIZE;
        for (int i = 0; i < n; i++) {
            String key = stanza + "/wal/0000000100000000/" + Segments.name(i) + ".zst";
            long stored = TestCloud.s3().headObject(h -> h.bucket(TestCloud.cloud().bucket()).key(key)).contentLength();
            f.wal.add(new PlanWal(Segments.name(i), key, Compression.ZSTD, PlanFixture.sha(Segments.segment(i, 3)), stored));
        }
        f.walRanges.add(new PlanWalRange(Segments.name(0), Segments.name(n - 1)));
        Path file = Files.createDirectories(pgdata).resolve(WalPlan.FILE_NAME);
        Files.writeString(file, f.envelope("0b6c2f1e-8f0e-4a53-9d2a-5b8c1d2e3f41").toString());
        return file;
    }

    @Test
    void aRestoresPrefetcherStopsPastItsPlanAndLeavesAtPromotion() throws Exception {
        String stanza = "ps" + STANZAS.incrementAndGet();
        Path conf = setup(stanza, 8);
        push(conf, 8); // the archive holds more than the plan needs: 0..3 planned, 4..7 archived later
        Path pgdata = Files.createDirectories(dir.resolve("restored"));
        Path planFile = plan(stanza, 4, pgdata);
        ShimConfig config = config(conf);
        WalPlan plan = WalPlan.load(planFile, config);
        PrefetchSpool spool = PrefetchSpool.open(config.spoolDir(), StanzaName.of(stanza)).orElseThrow();
        try (Watched store = new Watched(Stores.open(config, CredentialSource.of(config, Map.of())))) {
            spool.noteRequested(seg(0));
            // as restore leaves it: the signal file, then PostgreSQL running in recovery
            Files.createFile(pgdata.resolve("recovery.signal"));
            Files.writeString(pgdata.resolve("postmaster.pid"), "12345\n");
            Thread t = start(prefetcher(config, store, spool, Optional.of(plan), Duration.ofMinutes(5)), seg(0));
            for (int i = 0; i < 250 && !(spool.has(seg(3)) && spool.has(seg(4))); i++) {
                Thread.sleep(20);
            }
            assertTrue(spool.has(seg(1)) && spool.has(seg(3)), spoolFiles(spool).toString());
            Thread.sleep(1500); // a second and more of its loop: probes, and whatever it would fetch
            assertTrue(store.keys.stream().noneMatch(k -> k.contains(Segments.name(5)) || k.contains(Segments.name(6))),
                    "nothing two past the plan's end is asked for: " + store.keys);
            assertTrue(t.isAlive(), "still in recovery: it stays");
            // promotion: PostgreSQL removes recovery.signal and runs on
            Files.delete(pgdata.resolve("recovery.signal"));
            long promoted = System.nanoTime();
            int before = store.keys.size();
            t.join(10_000);
            assertFalse(t.isAlive(), "the prefetcher leaves at promotion, not after its idle time");
            long left = (System.nanoTime() - promoted) / 1_000_000;
            int after = store.keys.size() - before;
            System.out.println("left " + left + " ms after the promotion, " + after + " requests meanwhile");
            assertTrue(after <= 8, "at most the probes under way and one more round: " + after);
            assertTrue(log.toString(StandardCharsets.UTF_8).contains("has ended (promoted): leaving"), log.toString());
            assertTrue(spoolFiles(spool).stream().noneMatch(f -> f.matches("[0-9A-F]{24}")), "it cleared what it fetched");
        }
    }
}
