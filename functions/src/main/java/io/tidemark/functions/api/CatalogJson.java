package io.tidemark.functions.api;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tidemark.events.json.Json;
import io.tidemark.events.wal.TimelineId;
import io.tidemark.events.wal.WalSegmentName;
import io.tidemark.events.wal.WalSegmentSize;
import io.tidemark.functions.catalog.BackupEntry;
import io.tidemark.functions.catalog.BackupLease;
import io.tidemark.functions.catalog.CatalogService;
import io.tidemark.functions.catalog.SegmentRanges;
import io.tidemark.functions.catalog.StanzaMeta;
import io.tidemark.functions.catalog.StanzaView;
import io.tidemark.functions.catalog.TimelineAggregate;
import java.util.List;

/** The JSON bodies of the catalog API (the contract the node shim is coded against). */
public final class CatalogJson {

    static final ObjectMapper MAPPER = Json.mapper();

    private CatalogJson() {
    }

    /** {@code PUT /stanzas/{stanza}}: the stored stanza and whether this call created it. */
    public static ObjectNode created(CatalogService.CreateResult r) {
        ObjectNode n = MAPPER.createObjectNode();
        n.put("stanza", r.meta().stanza().value());
        n.put("created", r.created());
        meta(n, r.meta());
        return n;
    }

    private static void meta(ObjectNode n, StanzaMeta m) {
        n.put("systemIdentifier", m.systemIdentifier());
        n.put("pgVersion", m.pgVersion());
        n.put("pgVersionNum", m.pgVersionNum());
        n.put("walSegmentSize", m.walSegmentSize().bytes());
        n.put("createdAt", m.createdAt().toString());
    }

    /** {@code GET /stanzas/{stanza}}. */
    public static ObjectNode stanza(StanzaView v) {
        ObjectNode n = MAPPER.createObjectNode();
        n.put("stanza", v.meta().stanza().value());
        meta(n, v.meta());
        ArrayNode timelines = n.putArray("timelines");
        for (TimelineAggregate t : v.timelines()) {
            timelines.add(timeline(t, v.meta().walSegmentSize()));
        }
        ArrayNode partials = n.putArray("partials");
        v.partials().forEach(partials::add);
        ArrayNode histories = n.putArray("histories");
        v.histories().forEach(histories::add);
        ArrayNode backups = n.putArray("backups");
        v.backups().forEach(b -> backups.add(backup(b)));
        if (v.lease().isPresent()) {
            BackupLease l = v.lease().get();
            ObjectNode lease = n.putObject("lease").put("label", l.label()).put("holder", l.holder())
                    .put("expiresAt", l.expiresAt().toString());
            if (l.takeover() != null) {
                lease.putObject("tookOver").put("holder", l.takeover().holder()).put("reason", l.takeover().reason())
                        .put("at", l.takeover().at().toString());
            }
        } else {
            n.putNull("lease");
        }
        n.set("window", io.tidemark.functions.window.WindowJson.window(v.window()));
        ArrayNode lost = n.putArray("lostObjects");
        for (io.tidemark.functions.catalog.LostObject o : v.lost()) {
            ObjectNode l = lost.addObject().put("key", o.key()).put("status", o.status());
            text(l, "problem", o.problem());
            text(l, "lostAt", o.lostAt());
        }
        return n;
    }

    /** One entry of {@code backups[]}: the catalog's BACKUP item as the shim's {@code info} shows it. */
    /** {@code FUTUREWALTIMES}: segments whose commit times were ahead of their arrival (catalog.md). */
    static ObjectNode futureWalTimes(io.tidemark.functions.catalog.Item i) {
        ObjectNode n = MAPPER.createObjectNode();
        n.put("count", i.number("count").orElse(0L));
        var segments = n.putArray("segments");
        i.list("segments").forEach(s -> segments.add(String.valueOf(s)));
        return n;
    }

    /** {@code RETENTIONLAST}: what the latest real retention run did (retention.md#floors). */
    static ObjectNode retention(io.tidemark.functions.catalog.Item i) {
        ObjectNode n = MAPPER.createObjectNode();
        n.put("at", i.string("at").orElse(null));
        n.put("policy", i.string("policy").orElse(null));
        n.put("backupsExpired", i.number("backupsExpired").orElse(0L));
        n.put("confirmed", i.flag("confirmed"));
        var held = n.putArray("heldBack");
        i.list("heldBack").forEach(s -> held.add(String.valueOf(s)));
        return n;
    }

    static ObjectNode backup(BackupEntry b) {
        ObjectNode n = MAPPER.createObjectNode();
        n.put("label", b.label());
        text(n, "type", b.type());
        text(n, "prior", b.prior());
        text(n, "status", b.status());
        ArrayNode reasons = n.putArray("reasons");
        b.reasons().forEach(reasons::add);
        number(n, "timeline", b.timeline());
        text(n, "startLsn", b.startLsn());
        text(n, "stopLsn", b.stopLsn());
        text(n, "startTime", b.startTime());
        text(n, "stopTime", b.stopTime());
        number(n, "originalSize", b.originalSize());
        number(n, "storedSize", b.storedSize());
        number(n, "deltaSize", b.deltaSize());
        ArrayNode refs = n.putArray("references");
        b.references().forEach(refs::add);
        if (b.fromStandby() == null) {
            n.putNull("fromStandby");
        } else {
            n.put("fromStandby", b.fromStandby());
        }
        number(n, "pageChecksumErrors", b.pageChecksumErrors());
        text(n, "validatedAt", b.validatedAt());
        if (!b.missingWal().isEmpty()) {
            ArrayNode missing = n.putArray("missingWal");
            b.missingWal().forEach(missing::add);
        }
        if (!b.waitingFor().isEmpty()) {
            ArrayNode waiting = n.putArray("waitingFor");
            b.waitingFor().forEach(waiting::add);
        }
        return n;
    }

    private static void number(ObjectNode n, String field, Long value) {
        if (value == null) {
            n.putNull(field);
        } else {
            n.put(field, value);
        }
    }

    static ObjectNode timeline(TimelineAggregate t, WalSegmentSize size) {
        ObjectNode n = MAPPER.createObjectNode();
        n.put("timeline", t.timeline().value());
        if (t.parent() == null) {
            n.putNull("parent");
            n.putNull("switchPoint");
        } else {
            n.put("parent", t.parent().value());
            n.put("switchPoint", t.switchPoint().toString());
        }
        n.set("walRanges", ranges(t.timeline(), t.ranges().ranges(), size));
        n.set("gaps", ranges(t.timeline(), t.ranges().gaps(), size));
        n.set("lostWal", ranges(t.timeline(), t.lost().ranges(), size));
        n.put("segments", t.ranges().count());
        text(n, "lastSegment", t.lastSegment());
        text(n, "lastCommitTime", t.lastCommitTime());
        text(n, "lastArchivedAt", t.lastArchivedAt());
        text(n, "endLsn", t.endLsn());
        return n;
    }

    static ArrayNode ranges(TimelineId timeline, List<SegmentRanges.Range> ranges, WalSegmentSize size) {
        ArrayNode a = MAPPER.createArrayNode();
        for (SegmentRanges.Range r : ranges) {
            a.addObject()
                    .put("start", WalSegmentName.of(timeline, r.start(), size).toString())
                    .put("end", WalSegmentName.of(timeline, r.end(), size).toString());
        }
        return a;
    }

    private static void text(ObjectNode n, String field, Object value) {
        if (value == null) {
            n.putNull(field);
        } else {
            n.put(field, value.toString());
        }
    }
}
