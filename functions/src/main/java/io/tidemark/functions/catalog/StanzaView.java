package io.tidemark.functions.catalog;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

/** What {@code GET /stanzas/{stanza}} shows: the stanza and its timelines, read from META and the TIMELINE items only. */
public record StanzaView(StanzaMeta meta, List<TimelineAggregate> timelines) {

    public StanzaView {
        timelines = timelines.stream().sorted((a, b) -> a.timeline().compareTo(b.timeline())).toList();
    }

    /** Every archived {@code .partial} file name, sorted. */
    public List<String> partials() {
        TreeSet<String> all = new TreeSet<>();
        timelines.forEach(t -> all.addAll(t.partials()));
        return List.copyOf(all);
    }

    /** The timelines whose {@code .history} file is indexed, ascending. */
    public List<Long> histories() {
        List<Long> h = new ArrayList<>();
        for (TimelineAggregate t : timelines) {
            if (t.history() != null) {
                h.add(t.timeline().value());
            }
        }
        return h;
    }
}
