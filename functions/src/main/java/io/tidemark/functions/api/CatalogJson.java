package io.tidemark.functions.api;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tidemark.events.wal.TimelineId;
import io.tidemark.events.wal.WalSegmentName;
import io.tidemark.events.wal.WalSegmentSize;
import io.tidemark.functions.catalog.CatalogService;
import io.tidemark.functions.catalog.SegmentRanges;
import io.tidemark.functions.catalog.StanzaMeta;
import io.tidemark.functions.catalog.StanzaView;
import io.tidemark.functions.catalog.TimelineAggregate;
import java.util.List;

/** The JSON bodies of the catalog API (the contract the node shim is coded against). */
public final class CatalogJson {

    static final ObjectMapper MAPPER = JsonMapper.builder().build();

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
        return n;
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
