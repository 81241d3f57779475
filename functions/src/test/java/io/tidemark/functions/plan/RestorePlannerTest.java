package io.tidemark.functions.plan;

import static io.tidemark.functions.plan.PlanFixture.SIZE;
import static io.tidemark.functions.plan.PlanFixture.at;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.tidemark.events.json.CanonicalJson;
import io.tidemark.events.layout.BackupLabelName;
import io.tidemark.events.plan.PlanWal;
import io.tidemark.events.plan.PlanWalRange;
import io.tidemark.events.plan.RestorePlan;
import io.tidemark.events.plan.RestorePlanJson;
import io.tidemark.events.sign.PlanSignatureException;
import io.tidemark.events.sign.SignedEnvelope;
import io.tidemark.events.wal.Lsn;
import io.tidemark.functions.catalog.CatalogException;
import io.tidemark.functions.catalog.CatalogService;
import io.tidemark.functions.catalog.Item;
import io.tidemark.functions.catalog.Keys;
import io.tidemark.functions.catalog.StanzaView;
import io.tidemark.functions.index.TestWal;
import io.tidemark.functions.validate.TestBackup;
import io.tidemark.functions.window.WindowPoint;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The planner over real indexed WAL and validated backups (in memory). Timeline 1 holds segments
 * 5..14; segment s commits xid 1000+s at T0+s s; segment 8 holds restore point "before-drop".
 * Backup A: segments 5..6, stopped at T0+6.5 s. Backup B: segments 9..10, stopped at T0+10.5 s.
 */
@Tag("unit")
class RestorePlannerTest {

    PlanFixture f;
    TestBackup a;
    TestBackup b;

    @BeforeEach
    void setUp() {
        f = new PlanFixture();
        f.archive(1, 5, 14, Map.of(8L, "before-drop"));
        a = f.backup(1, 1, 5, 6, at(6.5));
        b = f.backup(2, 1, 9, 10, at(10.5));
    }

    static List<String> walNames(RestorePlan p) {
        return p.wal().stream().map(PlanWal::name).toList();
    }

    static List<String> segments(long tli, long from, long to) {
        List<String> out = new java.util.ArrayList<>();
        for (long s = from; s <= to; s++) {
            out.add(String.format("%08X%08X%08X", tli, 0, s));
        }
        return out;
    }

    TargetUnreachableException refused(String json) {
        return assertThrows(TargetUnreachableException.class, () -> f.plan(json));
    }

    @Test
    void latestTakesTheNewestBackupAndAllContiguousWalAndIsSigned() {
        RestorePlanner.Created c = f.plan("{\"target\":{\"type\":\"latest\"}}");
        RestorePlan p = c.plan();
        assertEquals(b.manifest.label(), p.backupLabel());
        assertEquals(segments(1, 9, 14), walNames(p));
        assertEquals(b.manifest.files().size(), p.files().size());
        assertEquals(1, p.timeline().value());
        // asked: latest; the plan pins the timeline it resolved, so recovery follows exactly its WAL,
        // and the start of the last record of segment 14 (its switch record), so that recovery ends
        // there or fails: never a promotion short of it
        assertEquals(Map.of("recovery_target_timeline", "1", "recovery_target_lsn", switchRecordOf(14).toString(),
                "recovery_target_inclusive", "on", "recovery_target_action", "promote"), p.recoverySettings());
        assertEquals(io.tidemark.events.plan.RestoreTarget.Latest.class, p.request().target().getClass());
        assertTrue(p.reachability().contains("pinned to the record at " + switchRecordOf(14)), p.reachability());
        assertEquals(f.now.plusSeconds(3600), p.expiresAt());
        // every distinct key has a URL: files (two single objects and a bundle) and WAL
        assertEquals(3 + 6, c.urls().size());
        assertTrue(c.urls().keySet().containsAll(p.wal().stream().map(PlanWal::key).toList()));

        // round trip: the signed document verifies with the public key and reads back as the plan
        byte[] bytes = CanonicalJson.canonicalize(c.envelope());
        JsonNode doc = SignedEnvelope.verify(bytes, f.keys.getPublic());
        assertEquals(p, RestorePlanJson.read(doc));
        String tampered = new String(bytes, java.nio.charset.StandardCharsets.UTF_8)
                .replace("\"recovery_target_timeline\":\"1\"", "\"recovery_target_timeline\":\"2\"");
        assertThrows(PlanSignatureException.class, () -> SignedEnvelope.verify(
                tampered.getBytes(java.nio.charset.StandardCharsets.UTF_8), f.keys.getPublic()));

        // recorded: the URLs can be renewed; unknown plans are 404, expired ones 410
        RestorePlanner.Renewed r = f.planner.renew(p.planId(), null, null);
        assertEquals(c.urls(), r.urls());
        assertEquals(CatalogException.Kind.NOT_FOUND, assertThrows(CatalogException.class,
                () -> f.planner.renew("00000000-0000-0000-0000-000000000000", null, null)).kind());
        assertEquals(CatalogException.Kind.NOT_FOUND, assertThrows(CatalogException.class,
                () -> f.planner.renew(p.planId(), null, "other")).kind());
        // past its lifetime a plan cannot start a restore, but a running one may renew for the window
        RestorePlanner running = new RestorePlanner(f.catalog, f.objects, new io.tidemark.events.sign.LocalSigner(f.keys),
                (k, t) -> k, Clock.fixed(p.expiresAt(), ZoneOffset.UTC), RestorePlanner.Settings.DEFAULT);
        assertEquals(p.planId(), running.renew(p.planId(), null, null).planId());
        RestorePlanner later = new RestorePlanner(f.catalog, f.objects, new io.tidemark.events.sign.LocalSigner(f.keys),
                (k, t) -> k, Clock.fixed(p.expiresAt().plus(RestorePlanner.Settings.DEFAULT.renewalWindow()),
                ZoneOffset.UTC), RestorePlanner.Settings.DEFAULT);
        assertEquals(CatalogException.Kind.GONE, assertThrows(CatalogException.class,
                () -> later.renew(p.planId(), null, null)).kind());
    }

    @Test
    void urlsExpireNoLaterThanTheSessionKeysThatSignedThem() {
        RestorePlan p = f.plan("{}").plan();
        Instant keysExpire = f.now.plusSeconds(7 * 60);
        UrlSigner sessionSigner = new UrlSigner() {
            @Override
            public String presignGet(String key, java.time.Duration ttl) {
                return "https://s3.test/" + key;
            }

            @Override
            public Signed sign(Iterable<String> keys, java.time.Duration ttl) {
                return new Signed(presignAll(keys, ttl), java.util.Optional.of(keysExpire));
            }
        };
        RestorePlanner session = new RestorePlanner(f.catalog, f.objects, new io.tidemark.events.sign.LocalSigner(f.keys),
                sessionSigner, Clock.fixed(f.now, ZoneOffset.UTC), RestorePlanner.Settings.DEFAULT);
        // the default URL lifetime is longer than the keys' seven minutes: the keys win
        assertTrue(f.now.plus(RestorePlanner.Settings.DEFAULT.urlTtl()).isAfter(keysExpire));
        assertEquals(keysExpire, session.create("main", PlanRequest.parse(new byte[0]), null).urlsExpireAt());
        assertEquals(keysExpire, session.renew(p.planId(), null, null).urlsExpireAt());
        // long-term keys (no expiration): the URL lifetime
        assertEquals(f.now.plus(RestorePlanner.Settings.DEFAULT.urlTtl()), f.planner.renew(p.planId(), null, null).urlsExpireAt());
    }

    /** Where the fixture's segment {@code seg} of timeline 1 has its switch record (its last record). */
    static Lsn switchRecordOf(long seg) {
        io.tidemark.testkit.wal.SyntheticWal w = new io.tidemark.testkit.wal.SyntheticWal(
                io.tidemark.testkit.wal.SyntheticWal.PG15, SIZE, 8192, 1, 5, io.tidemark.functions.index.TestWal.SYSTEM_ID);
        long at = -1;
        for (long s = 5; s <= seg; s++) {
            w.commit(1000 + s, PlanFixture.micros(at(s)));
            if (s == 8) {
                w.restorePoint("before-drop", PlanFixture.micros(at(s + 0.5)));
            }
            at = w.switchSegment();
        }
        return Lsn.of(at);
    }

    @Test
    void latestPinsTheEndOfTheArchivedWal() {
        // a plain end: nothing archived after segment 11 is no gap, latest is that end
        PlanFixture g = new PlanFixture();
        g.archive(1, 5, 11, Map.of(8L, "before-drop"));
        g.backup(2, 1, 9, 10, at(10.5));
        RestorePlan p = g.plan("{\"target\":{\"type\":\"latest\"},\"action\":\"pause\"}").plan();
        assertEquals(segments(1, 9, 11), walNames(p));
        assertEquals(switchRecordOf(11).toString(), p.recoverySettings().get("recovery_target_lsn"));
        assertEquals("pause", p.recoverySettings().get("recovery_target_action"));
    }

    @Test
    void latestIsRefusedWhenArchivedWalContinuesAfterASegmentThatWasNeverArchived() {
        // archive_command failed for segment 12 only: 13 and 14 are archived, latest cannot reach them
        PlanFixture g = new PlanFixture();
        g.archive(1, 5, 14, Map.of(8L, "before-drop"), 12);
        g.backup(2, 1, 9, 10, at(10.5));
        TargetUnreachableException e = assertThrows(TargetUnreachableException.class,
                () -> g.plan("{\"target\":{\"type\":\"latest\"}}"));
        String m = e.getMessage();
        assertTrue(m.contains("segment(s) from " + segments(1, 12, 12).getFirst() + " were never archived"), m);
        assertTrue(m.contains("archived WAL continues at " + segments(1, 13, 13).getFirst()), m);
        assertTrue(m.contains("--target-lsn " + switchRecordOf(11)), m);
        assertEquals(at(11), e.before().time());
        assertNull(e.after());
        // the explicit target the refusal names restores the same WAL latest would have stopped at
        RestorePlan p = g.plan("{\"target\":{\"type\":\"lsn\",\"value\":\"" + switchRecordOf(11) + "\"}}").plan();
        assertEquals(segments(1, 9, 11), walNames(p));
        assertEquals(switchRecordOf(11).toString(), p.recoverySettings().get("recovery_target_lsn"));
    }

    @Test
    void latestNeverPinsARecordThatRunsIntoASegmentThatIsNotArchived() {
        // segment 7 ends with a record running into segment 8; 8 is in the bucket when 7 is indexed
        // (so the index finishes that record with it) but is never archived as far as the catalog knows
        PlanFixture g = new PlanFixture();
        io.tidemark.testkit.wal.SyntheticWal w = new io.tidemark.testkit.wal.SyntheticWal(
                io.tidemark.testkit.wal.SyntheticWal.PG15, SIZE, 8192, 1, 5, io.tidemark.functions.index.TestWal.SYSTEM_ID);
        w.commit(1005, PlanFixture.micros(at(5)));
        w.switchSegment();
        w.commit(1006, PlanFixture.micros(at(6)));
        w.switchSegment();
        w.commit(1007, PlanFixture.micros(at(7)));
        w.fillSegmentUntil(2000, 1000);
        long lastWhole = w.commit(1008, PlanFixture.micros(at(7.5)));
        long crossing = w.message(6000);
        w.commit(1009, PlanFixture.micros(at(8)));
        w.switchSegment();
        assertTrue(crossing / SIZE == 7 && (crossing + 6000) / SIZE == 8, "the message crosses into 8");
        Map<Long, String> keys = new java.util.HashMap<>();
        for (long s = 5; s <= 8; s++) {
            byte[] raw = w.segment((int) (s - 5));
            io.tidemark.events.wal.WalSegmentName name = io.tidemark.events.wal.WalSegmentName.of(
                    io.tidemark.events.wal.TimelineId.of(1), s, io.tidemark.functions.index.TestWal.SIZE);
            String key = io.tidemark.events.layout.StorageLayout.walKey(PlanFixture.STANZA,
                    new io.tidemark.events.wal.WalFileName.Segment(name), io.tidemark.events.layout.Compression.ZSTD);
            g.objects.put(key, io.tidemark.functions.index.TestWal.compress(io.tidemark.events.layout.Compression.ZSTD, raw),
                    "application/octet-stream", Map.of("sha256", io.tidemark.functions.index.TestWal.sha256(raw)));
            keys.put(s, key);
        }
        for (long s = 5; s <= 7; s++) {
            g.indexer.index(keys.get(s), PlanFixture.T0.plusSeconds(100 + s));
        }
        g.backup(2, 1, 5, 6, at(6.5));
        String item = g.catalog.get(io.tidemark.functions.catalog.Keys.pk(PlanFixture.STANZA), io.tidemark.functions.catalog.Keys.wal(
                io.tidemark.events.wal.WalSegmentName.of(io.tidemark.events.wal.TimelineId.of(1), 7,
                        io.tidemark.functions.index.TestWal.SIZE))).flatMap(i -> i.string("lastRecordLsn")).orElseThrow();
        assertEquals(Lsn.of(crossing).toString(), item, "the index counts the crossing record in segment 7");
        RestorePlan p = g.plan("{\"target\":{\"type\":\"latest\"}}").plan();
        assertEquals(segments(1, 5, 7), walNames(p));
        assertEquals(Lsn.of(lastWhole).toString(), p.recoverySettings().get("recovery_target_lsn"));
    }

    @Test
    void onlyLatestIsPinnedOtherTargetsKeepTheirOwnSettings() {
        RestorePlan p = f.plan("{\"target\":{\"type\":\"name\",\"value\":\"before-drop\"}}").plan();
        assertEquals(Map.of("recovery_target_name", "before-drop", "recovery_target_timeline", "1",
                "recovery_target_action", "promote"), p.recoverySettings());
    }

    @Test
    void plansNameTheVersionsTheCatalogRecordedAndTheirUrlsAndRenewalsReadThem() {
        // what the indexer and the validator record on versioned S3 (the in-memory bucket keeps none)
        RestorePlan before = f.plan("{}").plan();
        PlanWal w = before.wal().getFirst();
        String pk = Keys.pk(f.meta.stanza());
        String sk = Keys.wal(io.tidemark.events.wal.WalSegmentName.parse(w.name(), TestWal.SIZE));
        Item item = f.catalog.get(pk, sk).orElseThrow();
        assertTrue(f.catalog.put(item.with("versionId", "wal-v1").withRevision(), item.revision()));
        io.tidemark.events.plan.PlanFile file = before.files().getFirst();
        new io.tidemark.functions.catalog.ObjectVersions(f.catalog).put(pk, file.backup(), Map.of(file.key(), "file-v1"));

        List<Map<String, String>> signed = new java.util.concurrent.CopyOnWriteArrayList<>();
        UrlSigner recording = new UrlSigner() {
            @Override
            public String presignGet(String key, java.time.Duration ttl) {
                throw new AssertionError("every URL is signed with its version");
            }

            @Override
            public Signed signVersions(Map<String, String> versionsByKey, java.time.Duration ttl) {
                signed.add(new java.util.HashMap<>(versionsByKey));
                Map<String, String> urls = new java.util.LinkedHashMap<>();
                versionsByKey.forEach((k, v) -> urls.put(k, "https://s3.test/" + k + (v == null ? "" : "?versionId=" + v)));
                return new Signed(urls, java.util.Optional.empty());
            }
        };
        RestorePlanner planner = new RestorePlanner(f.catalog, f.objects, new io.tidemark.events.sign.LocalSigner(f.keys),
                recording, java.time.Clock.fixed(f.now, java.time.ZoneOffset.UTC), RestorePlanner.Settings.DEFAULT);
        RestorePlanner.Created c = planner.create("main", PlanRequest.parse(new byte[0]), null);
        PlanWal pinned = c.plan().wal().stream().filter(x -> x.name().equals(w.name())).findFirst().orElseThrow();
        assertEquals("wal-v1", pinned.versionId());
        assertEquals(w.sha256(), pinned.sha256());
        assertEquals("file-v1", c.plan().files().stream().filter(x -> x.key().equals(file.key())).findFirst()
                .orElseThrow().versionId());
        assertEquals("https://s3.test/" + w.key() + "?versionId=wal-v1", c.urls().get(w.key()));
        // the signed document carries them: what the shim reads
        RestorePlan read = io.tidemark.events.plan.RestorePlanJson.read(c.envelope().get("document"));
        assertEquals("wal-v1", read.wal().stream().filter(x -> x.name().equals(w.name())).findFirst().orElseThrow()
                .versionId());

        planner.renew(c.plan().planId(), null, null);
        assertEquals(2, signed.size());
        assertEquals(signed.get(0), signed.get(1), "renewed URLs name the same versions");
        assertEquals("wal-v1", signed.get(1).get(w.key()));
        assertEquals("file-v1", signed.get(1).get(file.key()));
    }

    @Test
    void renewalChecksTheCallerAgainstThePlanCreator() {
        String role = "arn:aws:sts::123456789012:assumed-role/tidemark-main/i-1";
        RestorePlan p = f.planner.create("main", PlanRequest.parse(new byte[0]), role).plan();
        assertEquals(p.planId(), f.planner.renew(p.planId(), "arn:aws:sts::123456789012:assumed-role/tidemark-main/i-2",
                null).planId());
        CatalogException other = assertThrows(CatalogException.class, () -> f.planner.renew(
                p.planId(), "arn:aws:sts::123456789012:assumed-role/tidemark-other/i-1", null));
        assertEquals(CatalogException.Kind.FORBIDDEN, other.kind());
        assertEquals("restore plan " + p.planId() + " is bound to the principal that asked for it, and"
                + " 123456789012:role/tidemark-other is not that principal: ask for a plan of your own", other.getMessage());
        // a bound plan is never renewed for a request that names no caller
        CatalogException anonymous = assertThrows(CatalogException.class, () -> f.planner.renew(p.planId(), null, null));
        assertEquals(CatalogException.Kind.FORBIDDEN, anonymous.kind());
        assertTrue(anonymous.getMessage().contains("this request names no caller"), anonymous.getMessage());
    }

    @Test
    void aPlanLivesOneHourByDefault() {
        RestorePlan p = f.planner.create("main", PlanRequest.parse(new byte[0]), null).plan();
        assertEquals(java.time.Duration.ofHours(1), java.time.Duration.between(p.createdAt(), p.expiresAt()));
    }

    @Test
    void immediateStopsAtTheBackupsConsistentPoint() {
        RestorePlan p = f.plan("{\"target\":{\"type\":\"immediate\"},\"action\":\"pause\"}").plan();
        assertEquals(b.manifest.label(), p.backupLabel());
        assertEquals(segments(1, 9, 10), walNames(p));
        assertEquals("immediate", p.recoverySettings().get("recovery_target"));
        assertEquals("pause", p.recoverySettings().get("recovery_target_action"));
    }

    @Test
    void timeChoosesTheNewestBackupConsistentBeforeItAndListsWalThroughTheCommitAfterIt() {
        // T0+8.5 s: B is consistent only at T0+10.5 s, so A; the first commit after it is in segment 9.
        RestorePlan p = f.plan("{\"target\":{\"type\":\"time\",\"value\":\"" + at(8.5) + "\"}}").plan();
        assertEquals(a.manifest.label(), p.backupLabel());
        assertEquals(segments(1, 5, 10), walNames(p));
        assertEquals("on", p.recoverySettings().get("recovery_target_inclusive"));
        assertTrue(p.reachability().contains("000000010000000000000009"), p.reachability());
        // T0+11.25 s: B; the commit after it is in segment 12
        RestorePlan q = f.plan("{\"target\":{\"type\":\"time\",\"value\":\"" + at(11.25) + "\"}}").plan();
        assertEquals(b.manifest.label(), q.backupLabel());
        assertEquals(segments(1, 9, 13), walNames(q));
    }

    @Test
    void timeAtTheLastCommitIsReachableOnlyExclusively() {
        String last = at(14).toString();
        TargetUnreachableException e = refused("{\"target\":{\"type\":\"time\",\"value\":\"" + last + "\"}}");
        assertTrue(e.getMessage().contains("no commit after"), e.getMessage());
        assertEquals(Lsn.of(14L * SIZE).isBefore(e.before().lsn()), true);
        assertNull(e.after());
        RestorePlan p = f.plan("{\"target\":{\"type\":\"time\",\"value\":\"" + last + "\"},\"exclusive\":true}").plan();
        assertEquals(b.manifest.label(), p.backupLabel());
        assertEquals(segments(1, 9, 14), walNames(p));
        assertEquals("off", p.recoverySettings().get("recovery_target_inclusive"));
        // just before the last commit: inclusive works
        f.plan("{\"target\":{\"type\":\"time\",\"value\":\"" + at(13.999999) + "\"}}");
    }

    @Test
    void timeBeforeTheOldestBackupIsRefusedWithTheNearestPoint() {
        TargetUnreachableException e = refused("{\"target\":{\"type\":\"time\",\"value\":\"" + at(6) + "\"}}");
        assertNull(e.before());
        WindowPoint after = e.after();
        assertEquals(a.manifest.stopLsn(), after.lsn());
        assertEquals(at(6.5), after.time());
        assertEquals(a.manifest.stopLsn(), e.window().earliest().orElseThrow().lsn());
        assertEquals(at(14), e.window().latest().orElseThrow().time());
    }

    @Test
    void xidIsProvenByScanningItsSegment() {
        RestorePlan p = f.plan("{\"target\":{\"type\":\"xid\",\"value\":\"1011\"}}").plan();
        assertEquals(b.manifest.label(), p.backupLabel());
        assertEquals(segments(1, 9, 12), walNames(p));
        assertTrue(p.reachability().contains("commit record"), p.reachability());
        assertEquals("1011", p.recoverySettings().get("recovery_target_xid"));
        // 1007 committed in segment 7, after A's consistent point and before B's start: A
        assertEquals(a.manifest.label(), f.plan("{\"target\":{\"type\":\"xid\",\"value\":\"1007\"}}").plan().backupLabel());
        TargetUnreachableException e = refused("{\"target\":{\"type\":\"xid\",\"value\":\"4242\"}}");
        assertTrue(e.getMessage().contains("no commit or abort record of xid 4242"), e.getMessage());
        // 1005 ended before every backup's consistent point
        assertTrue(refused("{\"target\":{\"type\":\"xid\",\"value\":\"1005\"}}").getMessage().contains("1005"));
    }

    @Test
    void lsnInsideTheWindowOnlyAndTheNearestPointsOtherwise() {
        Lsn inside = Lsn.of(12L * SIZE + 0x100);
        RestorePlan p = f.plan("{\"target\":{\"type\":\"lsn\",\"value\":\"" + inside + "\"},\"exclusive\":true}").plan();
        assertEquals(b.manifest.label(), p.backupLabel());
        assertEquals(segments(1, 9, 13), walNames(p));
        TargetUnreachableException early = refused("{\"target\":{\"type\":\"lsn\",\"value\":\"0/100\"}}");
        assertNull(early.before());
        assertEquals(a.manifest.stopLsn(), early.after().lsn());
        TargetUnreachableException late = refused("{\"target\":{\"type\":\"lsn\",\"value\":\"1/0\"}}");
        assertNotNull(late.before());
        assertTrue(late.before().lsn().isAfter(Lsn.of(14L * SIZE)), late.before().toString());
        assertNull(late.after());
    }

    @Test
    void nameTargetsTheFirstRestorePointAfterTheBackupStart() {
        RestorePlan p = f.plan("{\"target\":{\"type\":\"name\",\"value\":\"before-drop\"}}").plan();
        assertEquals(a.manifest.label(), p.backupLabel()); // B starts after the restore point
        assertEquals(segments(1, 5, 9), walNames(p));
        assertEquals("before-drop", p.recoverySettings().get("recovery_target_name"));
        TargetUnreachableException e = refused("{\"target\":{\"type\":\"name\",\"value\":\"nope\"}}");
        assertTrue(e.getMessage().contains("no restore point named 'nope'"), e.getMessage());
    }

    @Test
    void aNamedBackupIsUsedOrRefused() {
        RestorePlan p = f.plan("{\"backup\":\"" + a.manifest.label() + "\"}").plan();
        assertEquals(a.manifest.label(), p.backupLabel());
        assertEquals(segments(1, 5, 14), walNames(p));
        TargetUnreachableException e = refused("{\"backup\":\"" + TestBackup.fullLabel(9) + "\"}");
        assertTrue(e.getMessage().contains("is not a valid backup"), e.getMessage());
        // B cannot reach a time before its consistent point
        refused("{\"backup\":\"" + b.manifest.label() + "\",\"target\":{\"type\":\"time\",\"value\":\"" + at(9) + "\"}}");
    }

    @Test
    void badRequestsAre400AndUnknownStanzas404() {
        assertEquals(CatalogException.Kind.BAD_REQUEST, assertThrows(CatalogException.class,
                () -> f.plan("{\"target\":{\"type\":\"time\",\"value\":\"yesterday\"}}")).kind());
        assertEquals(CatalogException.Kind.BAD_REQUEST, assertThrows(CatalogException.class,
                () -> f.plan("{\"target\":{\"type\":\"name\",\"value\":\"x\"},\"exclusive\":true}")).kind());
        assertEquals(CatalogException.Kind.BAD_REQUEST, assertThrows(CatalogException.class,
                () -> f.plan("{\"timeline\":\"newest\"}")).kind());
        assertEquals(CatalogException.Kind.NOT_FOUND, assertThrows(CatalogException.class,
                () -> f.planner.create("other", PlanRequest.parse(new byte[0]), null)).kind());
    }

    @Test
    void theWindowIsKeptInTheCatalog() {
        StanzaView v = new CatalogService(f.catalog, f.objects, Clock.fixed(f.now, ZoneOffset.UTC)).describe("main");
        assertEquals(a.manifest.stopLsn(), v.window().earliest().orElseThrow().lsn());
        assertEquals(at(6.5), v.window().earliest().orElseThrow().time());
        WindowPoint latest = v.window().latest().orElseThrow();
        assertEquals(at(14), latest.time());
        assertTrue(latest.lsn().isAfter(Lsn.of(14L * SIZE)) && latest.lsn().isBefore(Lsn.of(15L * SIZE)));
        assertEquals(0, v.window().gaps().size());
    }

    @Test
    void aGapSplitsTheWindowAndABackupAfterItStartsANewInterval() {
        PlanFixture g = new PlanFixture();
        g.archive(1, 5, 14, Map.of(), 11);
        TestBackup first = g.backup(1, 1, 5, 6, at(6.5));
        TestBackup second = g.backup(2, 1, 12, 12, at(12.5));
        StanzaView v = new CatalogService(g.catalog, g.objects, Clock.fixed(g.now, ZoneOffset.UTC)).describe("main");
        assertEquals(1, v.window().gaps().size());
        assertEquals(at(10), v.window().gaps().getFirst().from().time());
        assertEquals(second.manifest.stopLsn(), v.window().gaps().getFirst().to().lsn());
        // a time in the gap is refused with both neighbours
        TargetUnreachableException e = assertThrows(TargetUnreachableException.class,
                () -> g.plan("{\"target\":{\"type\":\"time\",\"value\":\"" + at(11) + "\"}}"));
        assertEquals(at(10), e.before().time());
        assertEquals(second.manifest.stopLsn(), e.after().lsn());
        // before the gap: the first backup, WAL 5..10
        RestorePlan p = g.plan("{\"target\":{\"type\":\"time\",\"value\":\"" + at(8.5) + "\"}}").plan();
        assertEquals(first.manifest.label(), p.backupLabel());
        assertEquals(segments(1, 5, 10), walNames(p));
        assertEquals(second.manifest.label(), g.plan("{}").plan().backupLabel());
    }

    @Test
    void walAcrossATimelineSwitchTakesTheSwitchSegmentFromTheNewTimeline() {
        PlanFixture t = new PlanFixture();
        t.archive(1, 5, 11, Map.of()); // the old primary went on to segment 11 on timeline 1
        Lsn switchPoint = Lsn.of(10L * SIZE + 0x28);
        t.history(2, "1\t" + switchPoint + "\tno recovery target specified\n");
        t.archive(2, 10, 12, Map.of());
        TestBackup full = t.backup(1, 1, 5, 6, at(6.5));
        RestorePlan p = t.plan("{}").plan();
        assertEquals(full.manifest.label(), p.backupLabel());
        assertEquals(2, p.timeline().value());
        List<String> expected = new java.util.ArrayList<>(List.of("00000002.history"));
        expected.addAll(segments(1, 5, 9));
        expected.addAll(segments(2, 10, 12));
        assertEquals(expected, walNames(p));
        // archive-get is promised every segment, per timeline part
        assertEquals(List.of(new PlanWalRange(segments(1, 5, 5).getFirst(), segments(1, 9, 9).getFirst()),
                new PlanWalRange(segments(2, 10, 10).getFirst(), segments(2, 12, 12).getFirst())), p.walRanges());
        // staying on timeline 1 reads its own segments 10 and 11
        RestorePlan current = t.plan("{\"timeline\":\"current\"}").plan();
        assertEquals(1, current.timeline().value());
        assertEquals(segments(1, 5, 11), walNames(current));
        // a time after the switch, on timeline 2: the commit of segment 12 (timeline 2)
        RestorePlan time = t.plan("{\"target\":{\"type\":\"time\",\"value\":\"" + at(11.5) + "\"},\"timeline\":\"2\"}")
                .plan();
        assertEquals(segments(2, 12, 12).getFirst(), walNames(time).getLast());
    }

    /**
     * A history whose switch points go back (PostgreSQL writes it for a PITR that follows timeline
     * 2 to a point before its branch): timeline 2 owns nothing on timeline 3's path, so the plan
     * reads timeline 1 up to the lower switch point and then timeline 3, never timeline 2's WAL.
     */
    @Test
    void aHistoryGoingBackReadsNoWalOfTheTimelineWhoseRangeIsEmpty() {
        PlanFixture t = new PlanFixture();
        t.archive(1, 5, 14, Map.of());
        t.history(2, "1\t" + Lsn.of(12L * SIZE + 0x28) + "\tno recovery target specified\n");
        t.archive(2, 12, 14, Map.of());
        t.history(3, "1\t" + Lsn.of(12L * SIZE + 0x28) + "\tno recovery target specified\n2\t"
                + Lsn.of(8L * SIZE + 0x28) + "\tat restore point \"early\"\n");
        t.archive(3, 8, 10, Map.of());
        TestBackup full = t.backup(1, 1, 5, 6, at(6.5));
        RestorePlan p = t.plan("{}").plan();
        assertEquals(full.manifest.label(), p.backupLabel());
        assertEquals(3, p.timeline().value());
        List<String> expected = new java.util.ArrayList<>(List.of("00000002.history", "00000003.history"));
        expected.addAll(segments(1, 5, 7));
        expected.addAll(segments(3, 8, 10));
        assertEquals(expected, walNames(p));
        // timeline 2 itself still restores through its own switch
        RestorePlan two = t.plan("{\"timeline\":\"2\"}").plan();
        List<String> viaTwo = new java.util.ArrayList<>(List.of("00000002.history"));
        viaTwo.addAll(segments(1, 5, 11));
        viaTwo.addAll(segments(2, 12, 14));
        assertEquals(viaTwo, walNames(two));
    }

    @Test
    void theWalRangesPromiseSegmentsBeyondTheCappedList() {
        PlanFixture capped = new PlanFixture(new RestorePlanner.Settings(RestorePlanner.Settings.DEFAULT.urlTtl(),
                RestorePlanner.Settings.DEFAULT.planTtl(), 3, RestorePlanner.Settings.DEFAULT.maxXidScans()));
        capped.archive(1, 5, 14, Map.of());
        capped.backup(1, 1, 9, 10, at(10.5));
        RestorePlan p = capped.plan("{\"target\":{\"type\":\"latest\"}}").plan();
        assertEquals(segments(1, 9, 11), walNames(p), "the list stops at the cap");
        assertEquals(List.of(new PlanWalRange(segments(1, 9, 9).getFirst(), segments(1, 14, 14).getFirst())), p.walRanges(),
                "the promise goes on to the end");
        assertEquals(p, RestorePlanJson.read(RestorePlanJson.toJson(p)));
        // uncapped, the same range
        assertEquals(List.of(new PlanWalRange(segments(1, 9, 9).getFirst(), segments(1, 14, 14).getFirst())),
                f.plan("{\"target\":{\"type\":\"latest\"}}").plan().walRanges());
    }

    @Test
    void aDiffChainListsReferencedFilesAtTheirBackupsKeys() {
        PlanFixture d = new PlanFixture();
        d.archive(1, 5, 14, Map.of());
        TestBackup full = d.backup(1, 1, 5, 6, at(6.5));
        Map<String, byte[]> changed = TestBackup.files("d1");
        changed.put("base/1/1259", "changed".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        TestBackup diff = d.child(full, BackupLabelName.Type.DIFF, 5, changed, 9, 10, at(10.5));
        RestorePlan p = d.plan("{}").plan();
        assertEquals(diff.manifest.label(), p.backupLabel());
        assertEquals(List.of(full.manifest.label(), diff.manifest.label()), p.chain());
        var files = p.files().stream().collect(java.util.stream.Collectors.toMap(x -> x.path().path(), x -> x));
        assertEquals(diff.manifest.label(), files.get("base/1/1259").backup());
        assertTrue(files.get("base/1/1259").key().contains("/" + diff.manifest.label() + "/"));
        assertEquals(full.manifest.label(), files.get("global/pg_control").backup());
        assertTrue(files.get("global/pg_control").key().contains("/" + full.manifest.label() + "/"));
    }
}
