package io.tidemark.shim.archiveget;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tidemark.events.layout.Compression;
import io.tidemark.events.plan.PlanWal;
import io.tidemark.events.plan.PlanWalRange;
import io.tidemark.events.sign.EcKeys;
import io.tidemark.events.sign.LocalSigner;
import io.tidemark.events.sign.SignedEnvelope;
import io.tidemark.events.plan.RestorePlanJson;
import io.tidemark.events.wal.WalSegmentSize;
import io.tidemark.shim.archivepush.ArchivePushCommand;
import io.tidemark.shim.cli.ExitCodes;
import io.tidemark.shim.support.FakeCatalog;
import io.tidemark.shim.support.PlanFixture;
import io.tidemark.shim.support.Segments;
import io.tidemark.shim.support.Shim;
import io.tidemark.shim.support.TcpProxy;
import io.tidemark.shim.support.TestCloud;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.sync.RequestBody;

/**
 * archive-get with {@code --plan}: files the signed plan lists (or promises) are served only when
 * they match it; missing, damaged or unreachable past the outage wait exits 200 (PostgreSQL
 * aborts recovery) with one line; names the plan does not need stay a quiet "not archived".
 * Against the real local S3, with objects deleted and damaged in the store.
 */
@Tag("localcloud")
class ArchiveGetPlanCloudTest {
    private static final AtomicInteger STANZAS = new AtomicInteger();
    private static final String HISTORY = "00000002.history";
    private static final byte[] HISTORY_BYTES = "1\t0/7000000\tno recovery target specified\n".getBytes(StandardCharsets.US_ASCII);

    @TempDir
    Path dir;

    private String stanza;
    private Path plan;
    private final Map<String, String> keys = new HashMap<>();

    /**
     * Archives segments 0..5 and timeline 2's history; the plan lists segments 0..3 and the history
     * and promises segments 0..5 (as a plan whose WAL list hit the planner's cap would).
     */
    private Path setup(Map<String, String> extra) throws IOException {
        stanza = "plan" + STANZAS.incrementAndGet();
        TestCloud.catalog().put(stanza, FakeCatalog.document(stanza, Long.toUnsignedString(Segments.SYSID), 150018,
                Segments.SIZE));
        Map<String, String> settings = new HashMap<>(Map.of("stanza", stanza, "plan.publicKey", PlanFixture.publicKey(),
                "spool.dir", dir.resolve("spool").toString(), "retries", "0"));
        settings.putAll(extra);
        Path conf = TestCloud.config(TestCloud.cloud(), dir, settings);
        PlanFixture f = new PlanFixture(stanza, null);
        f.walSegmentSize = WalSegmentSize.ofBytes(Segments.SIZE);
        for (int i = 0; i < 6; i++) {
            byte[] raw = Segments.segment(i, 2);
            push(conf, Segments.name(i), raw);
            String key = stanza + "/wal/0000000100000000/" + Segments.name(i) + ".zst";
            keys.put(Segments.name(i), key);
            if (i < 4) {
                f.wal.add(new PlanWal(Segments.name(i), key, Compression.ZSTD, PlanFixture.sha(raw), storedSize(key)));
            }
        }
        push(conf, HISTORY, HISTORY_BYTES);
        String hkey = stanza + "/wal/" + HISTORY;
        keys.put(HISTORY, hkey);
        f.wal.add(new PlanWal(HISTORY, hkey, Compression.NONE, PlanFixture.sha(HISTORY_BYTES), storedSize(hkey)));
        f.walRanges.add(new PlanWalRange(Segments.name(0), Segments.name(5)));
        plan = Files.createDirectories(dir.resolve("pgdata")).resolve(WalPlan.FILE_NAME);
        Files.writeString(plan, f.envelope("0b6c2f1e-8f0e-4a53-9d2a-5b8c1d2e3f4" + STANZAS.get() % 10).toString());
        return conf;
    }

    private void push(Path conf, String name, byte[] data) throws IOException {
        Path p = dir.resolve(name);
        Files.write(p, data);
        assertEquals(0, Shim.run(new ArchivePushCommand(Map.of()), p.toString(), "--config", conf.toString()).code());
    }

    private static long storedSize(String key) {
        return TestCloud.s3().headObject(h -> h.bucket(TestCloud.cloud().bucket()).key(key)).contentLength();
    }

    private Shim.Run get(Path conf, String name) {
        return Shim.run(new ArchiveGetCommand(Map.of()), name, "pg_wal/RECOVERYXLOG", "--config", conf.toString(),
                "--pgdata", dir.resolve("pgdata").toString(), "--plan", plan.toString());
    }

    private Path target() {
        return dir.resolve("pgdata/pg_wal/RECOVERYXLOG");
    }

    /** Exit 200, one line on stderr naming the file, its key and {@code why}, nothing written. */
    private void assertAborts(Shim.Run r, String name, String why) {
        assertEquals(ExitCodes.ABORT_RECOVERY, r.code(), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().startsWith("tidemark archive-get: ABORTING RECOVERY: " + name), r.err());
        assertTrue(r.err().contains(why), r.err());
        assertFalse(Files.exists(target()), "nothing written");
    }

    @Test
    void plannedFilesAreServedAndUnplannedNamesAreAQuietNotArchived() throws IOException {
        Path conf = setup(Map.of());
        Files.createDirectories(target().getParent());
        for (int i : new int[] {0, 3, 4, 5}) { // listed, and promised beyond the list
            Shim.Run r = get(conf, Segments.name(i));
            assertEquals(0, r.code(), r.err());
            assertArrayEquals(Segments.segment(i, 2), Files.readAllBytes(target()), Segments.name(i));
            Files.delete(target());
        }
        Shim.Run h = get(conf, HISTORY);
        assertEquals(0, h.code(), h.err());
        assertArrayEquals(HISTORY_BYTES, Files.readAllBytes(target()));
        Files.delete(target());
        // the segment after the promised end, a newer timeline's history, timeline 2's copy of a segment
        for (String name : new String[] {Segments.name(6), "00000003.history", "000000020000000000000006"}) {
            Shim.Run r = get(conf, name);
            assertEquals(ExitCodes.FAILED, r.code(), name + ": " + r.err());
            assertEquals("", r.err(), name);
            assertFalse(Files.exists(target()), name);
        }
    }

    @Test
    void aListedSegmentMissingTruncatedOrChangedAbortsRecovery() throws IOException {
        Path conf = setup(Map.of());
        Files.createDirectories(target().getParent());
        var s3 = TestCloud.s3();
        String bucket = TestCloud.cloud().bucket();
        s3.deleteObject(d -> d.bucket(bucket).key(keys.get(Segments.name(1))));
        assertAborts(get(conf, Segments.name(1)), Segments.name(1) + " (" + keys.get(Segments.name(1)) + "): ",
                "missing from the archive");

        String k2 = keys.get(Segments.name(2));
        byte[] stored = s3.getObjectAsBytes(g -> g.bucket(bucket).key(k2)).asByteArray();
        Map<String, String> meta = s3.headObject(h -> h.bucket(bucket).key(k2)).metadata();
        byte[] half = java.util.Arrays.copyOf(stored, stored.length / 2);
        s3.putObject(p -> p.bucket(bucket).key(k2).metadata(meta), RequestBody.fromBytes(half));
        assertAborts(get(conf, Segments.name(2)), Segments.name(2) + " (" + k2 + "): ", "damaged: the object is "
                + half.length + " bytes, the plan says " + stored.length);

        // one byte of the content changed, recompressed, and the object's metadata forged to match:
        // only the plan's SHA-256 (or size) can tell
        String k3 = keys.get(Segments.name(3));
        byte[] raw = Segments.segment(3, 2);
        raw[5000] ^= 1;
        byte[] forged = com.github.luben.zstd.Zstd.compress(raw, 1);
        Map<String, String> forgedMeta = new HashMap<>(s3.headObject(h -> h.bucket(bucket).key(k3)).metadata());
        forgedMeta.put(ArchivePushCommand.META_SHA256, PlanFixture.sha(raw));
        s3.putObject(p -> p.bucket(bucket).key(k3).metadata(forgedMeta), RequestBody.fromBytes(forged));
        Shim.Run r = get(conf, Segments.name(3));
        assertAborts(r, Segments.name(3) + " (" + k3 + "): ", "damaged: ");
        assertTrue(r.err().contains("SHA-256 of its content is " + PlanFixture.sha(raw)) || r.err().contains("the plan says "),
                r.err());
        // plan-less, the forged object passes its own metadata check: the plan is what caught it
        Shim.Run planless = Shim.run(new ArchiveGetCommand(Map.of()), Segments.name(3), target().toString(), "--config",
                conf.toString());
        assertEquals(0, planless.code(), planless.err());
    }

    @Test
    void aMissingHistoryOrPromisedSegmentAbortsRecovery() throws IOException {
        Path conf = setup(Map.of());
        var s3 = TestCloud.s3();
        String bucket = TestCloud.cloud().bucket();
        s3.deleteObject(d -> d.bucket(bucket).key(keys.get(HISTORY)));
        assertAborts(get(conf, HISTORY), HISTORY + " (" + keys.get(HISTORY) + "): ", "missing from the archive");
        // beyond the listed WAL but within the promised end: never "not archived"
        s3.deleteObject(d -> d.bucket(bucket).key(keys.get(Segments.name(5))));
        assertAborts(get(conf, Segments.name(5)), Segments.name(5), "missing from the archive; restore plan");
        // damaged beyond the list: its metadata check still applies, and aborts
        String k4 = keys.get(Segments.name(4));
        Map<String, String> meta = s3.headObject(h -> h.bucket(bucket).key(k4)).metadata();
        s3.putObject(p -> p.bucket(bucket).key(k4).metadata(meta),
                RequestBody.fromBytes(com.github.luben.zstd.Zstd.compress(Segments.segment(9, 1), 1)));
        assertAborts(get(conf, Segments.name(4)), Segments.name(4), "is damaged");
    }

    @Test
    void aPlanThatDoesNotVerifyAbortsRecovery() throws IOException {
        Path conf = setup(Map.of());
        // the same document signed by another key
        PlanFixture f = new PlanFixture(stanza, null);
        var other = SignedEnvelope.sign(RestorePlanJson.toJson(f.plan("0b6c2f1e-8f0e-4a53-9d2a-5b8c1d2e3f40")),
                new LocalSigner(EcKeys.generate()));
        Files.writeString(plan, other.toString());
        Shim.Run r = get(conf, Segments.name(0));
        assertEquals(ExitCodes.ABORT_RECOVERY, r.code(), r.err());
        assertTrue(r.err().contains("restore plan " + plan) && r.err().contains("signature"), r.err());
        Files.delete(plan);
        Shim.Run gone = get(conf, Segments.name(0));
        assertEquals(ExitCodes.ABORT_RECOVERY, gone.code(), gone.err());
        assertTrue(gone.err().contains("does not exist"), gone.err());
        // with --plan, nothing else may look like "not available" either: an unreadable configuration
        Shim.Run noConf = Shim.run(new ArchiveGetCommand(Map.of()), Segments.name(0), "pg_wal/RECOVERYXLOG", "--config",
                dir.resolve("missing.conf").toString(), "--plan", plan.toString());
        assertEquals(ExitCodes.ABORT_RECOVERY, noConf.code(), noConf.err());
        assertTrue(noConf.err().startsWith("tidemark archive-get: ABORTING RECOVERY: ") && noConf.err().contains("missing.conf"),
                noConf.err());
    }

    @Test
    void anOutageIsWaitedOutThenAbortsPastTheLimit() throws Exception {
        try (TcpProxy proxy = new TcpProxy(TestCloud.cloud().s3Endpoint())) {
            Path conf = setup(Map.of("s3.endpoint", proxy.endpoint(), "archive-get.outage-wait", "60"));
            Files.createDirectories(target().getParent());
            proxy.down();
            CompletableFuture<Shim.Run> run = CompletableFuture.supplyAsync(() -> get(conf, Segments.name(1)));
            // the outage: archive-get must still be waiting, not answering, after its third attempt
            // (a fixed 3 s sleep before; the attempts are what shows it waits)
            await().atMost(Duration.ofSeconds(30)).until(() -> proxy.refused() >= 3 || run.isDone());
            assertFalse(run.isDone(), "answered during the outage: " + (run.isDone() ? run.join().err() : ""));
            proxy.up();
            Shim.Run r = run.get(60, TimeUnit.SECONDS);
            assertEquals(0, r.code(), r.err());
            assertArrayEquals(Segments.segment(1, 2), Files.readAllBytes(target()));
            assertTrue(r.err().contains("waiting for the archive to fetch " + Segments.name(1)), r.err());
            assertTrue(r.err().contains("the archive answers again"), r.err());
            Files.delete(target());

            Path brief = TestCloud.config(TestCloud.cloud(), dir, Map.of("stanza", stanza, "plan.publicKey",
                    PlanFixture.publicKey(), "retries", "0", "s3.endpoint", proxy.endpoint(), "archive-get.outage-wait", "2"));
            proxy.down();
            Shim.Run gave = get(brief, Segments.name(2));
            assertEquals(ExitCodes.ABORT_RECOVERY, gave.code(), gave.err());
            assertTrue(gave.err().lines().anyMatch(l -> l.startsWith("tidemark archive-get: ABORTING RECOVERY: "
                    + Segments.name(2) + ": the archive stayed unreachable")), gave.err());
            // a name the plan does not need is not worth an abort when the limit passes, but is never "not archived"
            Shim.Run probe = get(brief, "00000003.history");
            assertEquals(ExitCodes.ABORT_RECOVERY, probe.code(), probe.err());
        }
    }
}
