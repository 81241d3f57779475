package io.tidemark.functions.window;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Optional;

/**
 * The window as the API shows it ({@code GET /stanzas/{stanza}} and the planner's 422):
 * <pre>{"earliest": {"time", "lsn", "timeline"} | null, "latest": {...} | null,
 *  "gaps": [{"timeline", "from": {"lsn", "time"}, "to": {"lsn", "time"}}],
 *  "breaks": [{"timeline", "from": {"lsn", "time", "timeline"}, "to": {"lsn", "timeline"}}],
 *  "timelines": [{"timeline", "earliest", "latest"}]}</pre>
 */
public final class WindowJson {
    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    private WindowJson() {
    }

    public static ObjectNode window(RecoveryWindow w) {
        ObjectNode n = F.objectNode();
        n.set("earliest", point(w.earliest()));
        n.set("latest", point(w.latest()));
        var gaps = n.putArray("gaps");
        for (RecoveryWindow.Gap g : w.gaps()) {
            ObjectNode o = gaps.addObject();
            o.put("timeline", g.timeline().value());
            o.putObject("from").put("lsn", g.from().lsn().toString()).put("time", time(g.from()));
            o.putObject("to").put("lsn", g.to().lsn().toString()).put("time", time(g.to()));
        }
        var breaks = n.putArray("breaks");
        for (RecoveryWindow.Break b : w.breaks()) {
            ObjectNode o = breaks.addObject();
            o.put("timeline", b.timeline().value());
            o.putObject("from").put("lsn", b.from().lsn().toString()).put("time", time(b.from()))
                    .put("timeline", b.from().timeline().value());
            o.putObject("to").put("lsn", b.to().lsn().toString()).put("timeline", b.to().timeline().value());
        }
        var tls = n.putArray("timelines");
        for (RecoveryWindow.TimelineWindow t : w.timelines()) {
            ObjectNode o = tls.addObject();
            o.put("timeline", t.timeline().value());
            o.set("earliest", point(t.earliest()));
            o.set("latest", point(t.latest()));
        }
        return n;
    }

    public static com.fasterxml.jackson.databind.JsonNode point(Optional<WindowPoint> p) {
        return p.isEmpty() ? F.nullNode() : point(p.get());
    }

    public static ObjectNode point(WindowPoint p) {
        ObjectNode o = F.objectNode();
        o.put("time", time(p));
        o.put("lsn", p.lsn().toString());
        o.put("timeline", p.timeline().value());
        return o;
    }

    private static String time(WindowPoint p) {
        return p.time() == null ? null : p.time().toString();
    }
}
