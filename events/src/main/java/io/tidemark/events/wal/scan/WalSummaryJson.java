package io.tidemark.events.wal.scan;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tidemark.events.wal.Lsn;
import java.time.Instant;

/**
 * The JSON form of a {@link WalSegmentSummary}, shared by {@code tidemark wal-summary} and the
 * cloud side. LSNs are {@code X/X} strings, times ISO-8601 UTC strings, the system identifier a
 * decimal string (it is an unsigned 64-bit value), every number an integer.
 */
public final class WalSummaryJson {
    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    private WalSummaryJson() {
    }

    public static ObjectNode toJson(WalSegmentSummary s, boolean withTransactions) {
        ObjectNode o = F.objectNode();
        o.put("timeline", s.timeline() == null ? null : s.timeline().value());
        o.put("segment", s.segment() == null ? null : s.segment().toString());
        o.put("pgVersion", s.version() == null ? null : s.version().major());
        o.put("systemIdentifier", s.systemIdentifierText());
        o.put("segmentSize", s.segment() == null ? null : (long) s.segment().segmentSize().bytes());
        o.put("records", s.records());
        o.put("fullPageImages", s.fullPageImages());
        o.put("commits", s.commits());
        o.put("aborts", s.aborts());
        o.put("firstCommitTime", time(s.firstCommitTime()));
        o.put("lastCommitTime", time(s.lastCommitTime()));
        o.put("firstRecordLsn", lsn(s.firstRecordLsn()));
        o.put("lastRecordLsn", lsn(s.lastRecordLsn()));
        o.put("endLsn", lsn(s.endLsn()));
        ArrayNode rps = o.putArray("restorePoints");
        for (RestorePoint rp : s.restorePoints()) {
            rps.addObject().put("name", rp.name()).put("time", time(rp.time())).put("lsn", lsn(rp.lsn()));
        }
        ArrayNode cps = o.putArray("checkpoints");
        for (Checkpoint c : s.checkpoints()) {
            cps.addObject().put("lsn", lsn(c.lsn())).put("redo", lsn(c.redo())).put("time", time(c.time()))
                    .put("timeline", c.timeline()).put("shutdown", c.shutdown());
        }
        ArrayNode eors = o.putArray("endsOfRecovery");
        for (EndOfRecovery e : s.endsOfRecovery()) {
            eors.addObject().put("lsn", lsn(e.lsn())).put("time", time(e.time()))
                    .put("timeline", e.timeline()).put("previousTimeline", e.previousTimeline());
        }
        ArrayNode bes = o.putArray("backupEnds");
        for (BackupEnd b : s.backupEnds()) {
            bes.addObject().put("lsn", lsn(b.lsn())).put("backupStart", lsn(b.backupStart()));
        }
        ArrayNode ocs = o.putArray("overwrittenContrecords");
        for (OverwrittenContrecord c : s.overwrittenContrecords()) {
            ocs.addObject().put("lsn", lsn(c.lsn())).put("overwrittenLsn", lsn(c.overwrittenLsn())).put("time", time(c.time()));
        }
        o.put("continuesAt", lsn(s.continuesAt()));
        o.put("stopReason", s.stopReason().jsonName());
        o.put("stopLsn", lsn(s.stopLsn()));
        o.put("stopDetail", s.stopDetail());
        if (withTransactions) {
            ArrayNode txs = o.putArray("transactions");
            for (TransactionEnd t : s.transactions()) {
                txs.addObject().put("kind", t.kind().name().toLowerCase()).put("xid", t.xid())
                        .put("time", time(t.time())).put("lsn", lsn(t.lsn()));
            }
        }
        return o;
    }

    private static String lsn(Lsn l) {
        return l == null ? null : l.toString();
    }

    private static String time(Instant t) {
        return t == null ? null : t.toString();
    }

    /** Renders a JSON node as indented text for people. */
    public static String pretty(JsonNode node) {
        return node.toPrettyString();
    }
}
