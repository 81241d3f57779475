package io.tidemark.functions.catalog;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.Objects;
import java.util.Optional;
import java.util.List;
import java.util.TreeSet;

/**
 * What {@code GET /stanzas/{stanza}} shows: the stanza, its timelines, its backups (sorted by
 * label) and the backup lease when one is held; read from META, the TIMELINE and BACKUP items and
 * the lease item only.
 */
public record StanzaView(StanzaMeta meta, List<TimelineAggregate> timelines, List<BackupEntry> backups,
                         Optional<BackupLease> lease, io.tidemark.functions.window.RecoveryWindow window,
                         List<LostObject> lost) {

    public StanzaView {
        lost = lost == null ? List.of() : List.copyOf(lost);
        timelines = timelines.stream().sorted((a, b) -> a.timeline().compareTo(b.timeline())).toList();
        backups = backups.stream().sorted(Comparator.comparing(BackupEntry::label)).toList();
        lease = Objects.requireNonNull(lease, "lease");
        window = window == null ? io.tidemark.functions.window.RecoveryWindow.EMPTY : window;
    }

    public StanzaView(StanzaMeta meta, List<TimelineAggregate> timelines, List<BackupEntry> backups,
                      Optional<BackupLease> lease, io.tidemark.functions.window.RecoveryWindow window) {
        this(meta, timelines, backups, lease, window, List.of());
    }

    public StanzaView(StanzaMeta meta, List<TimelineAggregate> timelines, List<BackupEntry> backups,
                      Optional<BackupLease> lease) {
        this(meta, timelines, backups, lease, null);
    }

    public StanzaView(StanzaMeta meta, List<TimelineAggregate> timelines) {
        this(meta, timelines, List.of(), Optional.empty());
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
