package io.tidemark.events.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tidemark.events.backup.ManifestTablespace;
import io.tidemark.events.layout.BackupLabelName;
import io.tidemark.events.layout.Compression;
import io.tidemark.events.layout.StanzaName;
import io.tidemark.events.paths.SafeRelativePath;
import io.tidemark.events.sign.EcKeys;
import io.tidemark.events.sign.LocalSigner;
import io.tidemark.events.sign.SignedEnvelope;
import io.tidemark.events.wal.Lsn;
import io.tidemark.events.wal.TimelineId;
import io.tidemark.events.wal.WalSegmentSize;
import java.security.KeyPair;
import java.time.Instant;
import java.time.LocalDateTime;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("unit")
class RestorePlanJsonTest {
    static final BackupLabelName FULL = BackupLabelName.full(LocalDateTime.of(2026, 11, 21, 6, 0, 0));
    static final String SHA = "ab".repeat(32);

    static RestorePlan plan(Map<String, String> settings) {
        RecoveryRequest req = new RecoveryRequest(RestoreTarget.of("time", "2026-11-21T07:00:00Z"), true,
                new TimelineTarget.Latest(), TargetAction.PROMOTE);
        return new RestorePlan(1, "0b6c2f1e-8f0e-4a53-9d2a-5b8c1d2e3f40", StanzaName.of("main"), "7710501133698690623", 150018,
                WalSegmentSize.DEFAULT, Instant.parse("2026-11-21T07:05:00Z"), Instant.parse("2026-11-21T08:05:00Z"), req,
                TimelineId.of(1), FULL, List.of(FULL), Lsn.parse("0/2000028"), Lsn.parse("0/2000100"), TimelineId.of(1),
                "START WAL LOCATION: 0/2000028 (file 000000010000000000000002)\n", Optional.empty(),
                List.of(new ManifestTablespace(16400, "fast", "/mnt/fast")), List.of(SafeRelativePath.of("pg_wal")),
                List.of(new PlanFile(SafeRelativePath.of("base/1/1259"), 8192, SHA, FULL, "main/backup/x/bundle/0.zst",
                        Compression.ZSTD, true, 100, 50, SHA)),
                List.of(new PlanWal("000000010000000000000002", "main/wal/0000000100000000/000000010000000000000002.zst",
                        Compression.ZSTD, SHA, 4000), new PlanWal("00000002.history", "main/wal/00000002.history",
                        Compression.NONE, SHA, 42)),
                settings, "2026-11-21T07:00:00Z lies between the backup's end and the last commit");
    }

    @Test
    void roundTripsAndSurvivesSigning() throws Exception {
        RestorePlan p = plan(req().settings());
        ObjectNode json = RestorePlanJson.toJson(p);
        assertEquals(p, RestorePlanJson.read(json));
        KeyPair keys = EcKeys.generate();
        byte[] signed = new ObjectMapper().writeValueAsBytes(SignedEnvelope.sign(json, new LocalSigner(keys)));
        JsonNode doc = SignedEnvelope.verify(signed, keys.getPublic());
        assertEquals(p, RestorePlanJson.read(doc));
        assertEquals("off", p.recoverySettings().get("recovery_target_inclusive"));
        assertTrue(p.isExpired(Instant.parse("2026-11-21T08:05:00Z")));
    }

    @Test
    void walRangesRoundTripAndArePromisedOnlyOnTheirTimeline() {
        RestorePlan old = plan(req().settings());
        assertTrue(old.walRanges().isEmpty());
        assertTrue(!RestorePlanJson.toJson(old).has("walRanges"), "a plan without ranges is the document it always was");
        List<PlanWalRange> ranges = List.of(new PlanWalRange("000000010000000000000002", "0000000100000001000000A0"),
                new PlanWalRange("0000000200000001000000A0", "0000000200000001000000FF"));
        RestorePlan p = new RestorePlan(old.formatVersion(), old.planId(), old.stanza(), old.systemIdentifier(),
                old.pgVersionNum(), old.walSegmentSize(), old.createdAt(), old.expiresAt(), old.request(), old.timeline(),
                old.backupLabel(), old.chain(), old.backupStartLsn(), old.backupStopLsn(), old.backupTimeline(),
                old.backupLabelFile(), old.tablespaceMap(), old.tablespaces(), old.directories(), old.files(), old.wal(),
                old.recoverySettings(), old.reachability(), ranges);
        assertEquals(p, RestorePlanJson.read(RestorePlanJson.toJson(p)));
        assertTrue(ranges.get(0).holds("0000000100000000000000FF"));
        assertTrue(ranges.get(0).holds("0000000100000001000000A0"));
        assertTrue(!ranges.get(0).holds("0000000100000001000000A1"), "after the range");
        assertTrue(!ranges.get(0).holds("000000020000000000000005"), "another timeline");
        assertTrue(!ranges.get(0).holds("000000010000000000000001"), "before the range");
        assertThrows(PlanException.class, () -> new PlanWalRange("000000010000000000000002", "000000020000000000000003"));
        assertThrows(PlanException.class, () -> new PlanWalRange("000000010000000000000003", "000000010000000000000002"));
    }

    @Test
    void aSegmentAssembledFromStreamedChunksRoundTripsAndAnOldPlanStaysTheSameDocument() {
        RestorePlan old = plan(req().settings());
        assertTrue(RestorePlanJson.toJson(old).get("wal").get(0).get("chunks") == null,
                "a plan without streamed chunks is the document it always was");
        String prefix = "main/stream/0000000100000000/000000010000000000000003/";
        List<PlanWalChunk> chunks = List.of(
                new PlanWalChunk(prefix + "00000000-00040000.zst", null, Compression.ZSTD, 0, 0x40000, SHA, 9000),
                // an agent restart sent again from inside the first chunk: overlapping is allowed
                new PlanWalChunk(prefix + "00030000-00050000.zst", "v2", Compression.ZSTD, 0x30000, 0x50000, "cd".repeat(32),
                        4000));
        PlanWal assembled = PlanWal.assembled("000000010000000000000003", chunks);
        assertTrue(assembled.isAssembled());
        assertEquals(0x50000, assembled.assembledEnd());
        assertEquals(PlanWal.assemblyHash(chunks), assembled.sha256());
        List<PlanWal> wal = new java.util.ArrayList<>(old.wal());
        wal.add(assembled);
        RestorePlan p = new RestorePlan(old.formatVersion(), old.planId(), old.stanza(), old.systemIdentifier(),
                old.pgVersionNum(), old.walSegmentSize(), old.createdAt(), old.expiresAt(), old.request(), old.timeline(),
                old.backupLabel(), old.chain(), old.backupStartLsn(), old.backupStopLsn(), old.backupTimeline(),
                old.backupLabelFile(), old.tablespaceMap(), old.tablespaces(), old.directories(), old.files(), wal,
                old.recoverySettings(), old.reachability(), old.walRanges());
        assertEquals(p, RestorePlanJson.read(RestorePlanJson.toJson(p)));

        // a hole would be replayed as zeros: refused, as chunks that do not start at 0 or a history "assembled"
        assertThrows(PlanException.class, () -> PlanWal.assembled("000000010000000000000003", List.of(chunks.get(1))));
        assertThrows(PlanException.class, () -> PlanWal.assembled("000000010000000000000003", List.of(chunks.get(0),
                new PlanWalChunk(prefix + "00041000-00050000.zst", null, Compression.ZSTD, 0x41000, 0x50000, SHA, 10))));
        assertThrows(PlanException.class, () -> PlanWal.assembled("00000002.history", chunks));
        assertThrows(PlanException.class, () -> new PlanWalChunk(prefix + "x", null, Compression.ZSTD, 5, 5, SHA, 1));
    }

    @Test
    void unsafePathsAndForeignSettingsAreRefused() {
        ObjectNode json = RestorePlanJson.toJson(plan(req().settings()));
        ((ObjectNode) json.get("files").get(0)).put("path", "../../etc/passwd");
        PlanException e = assertThrows(PlanException.class, () -> RestorePlanJson.read(json));
        assertTrue(e.getMessage().contains("/files/0/path") && e.getMessage().contains(".."), e.getMessage());

        PlanException s = assertThrows(PlanException.class,
                () -> plan(Map.of("restore_command", "rm -rf /")));
        assertTrue(s.getMessage().contains("restore_command"), s.getMessage());
    }

    private static RecoveryRequest req() {
        return new RecoveryRequest(RestoreTarget.of("time", "2026-11-21T07:00:00Z"), true, new TimelineTarget.Latest(),
                TargetAction.PROMOTE);
    }
}
