package io.tidemark.functions.window;

import io.tidemark.events.layout.BackupLabelName;
import io.tidemark.events.wal.Lsn;
import io.tidemark.events.wal.TimelineId;
import io.tidemark.functions.catalog.BackupEntry;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * A valid backup as the recovery window and the planner need it: where it becomes consistent
 * (stop LSN and time, from its manifest) and what it depends on.
 */
public record WindowBackup(BackupLabelName label, TimelineId timeline, Lsn startLsn, Lsn stopLsn, Instant stopTime,
                           String prior, List<String> references, String compression) {

    public WindowBackup {
        references = List.copyOf(references);
    }

    /** Every earlier backup it needs: the prior chain's direct link and every referenced backup. */
    public List<String> needs() {
        List<String> n = new ArrayList<>(references);
        if (prior != null && !n.contains(prior)) {
            n.add(prior);
        }
        return n;
    }

    public static Optional<WindowBackup> of(BackupEntry e) {
        if (!BackupEntry.VALID.equals(e.status()) || e.timeline() == null || e.startLsn() == null
                || e.stopLsn() == null || e.stopTime() == null) {
            return Optional.empty();
        }
        try {
            return Optional.of(new WindowBackup(BackupLabelName.parse(e.label()), TimelineId.of(e.timeline()),
                    Lsn.parse(e.startLsn()), Lsn.parse(e.stopLsn()), Instant.parse(e.stopTime()), e.prior(),
                    e.references(), e.compression() == null ? "zst" : e.compression()));
        } catch (RuntimeException ex) {
            return Optional.empty();
        }
    }

    /**
     * One line, {@code label|timeline|startLsn|stopLsn|stopTime|prior|ref,ref|compression}: the
     * form of {@code WINDOW#backups}, compact to store and fast to read (hundreds per planner request).
     */
    public String toLine() {
        return label + "|" + timeline.value() + "|" + startLsn + "|" + stopLsn + "|" + stopTime + "|"
                + (prior == null ? "" : prior) + "|" + String.join(",", references) + "|" + compression;
    }

    public static WindowBackup fromLine(String line) {
        String[] p = line.split("\\|", -1);
        if (p.length != 8) {
            throw new IllegalArgumentException("not a window backup line: " + line);
        }
        return new WindowBackup(BackupLabelName.parse(p[0]), TimelineId.of(Long.parseLong(p[1])), Lsn.parse(p[2]),
                Lsn.parse(p[3]), Instant.parse(p[4]), p[5].isEmpty() ? null : p[5],
                p[6].isEmpty() ? List.of() : List.of(p[6].split(",")), p[7]);
    }

    public Map<String, Object> toMap() {
        Map<String, Object> m = new TreeMap<>();
        m.put("label", label.toString());
        m.put("timeline", timeline.value());
        m.put("startLsn", startLsn.toString());
        m.put("stopLsn", stopLsn.toString());
        m.put("stopTime", stopTime.toString());
        m.put("prior", prior);
        m.put("references", references);
        m.put("compression", compression);
        return m;
    }

    @SuppressWarnings("unchecked")
    public static WindowBackup fromMap(Map<String, Object> m) {
        List<String> refs = new ArrayList<>();
        for (Object o : (List<Object>) m.getOrDefault("references", List.of())) {
            refs.add((String) o);
        }
        return new WindowBackup(BackupLabelName.parse((String) m.get("label")), TimelineId.of((Long) m.get("timeline")),
                Lsn.parse((String) m.get("startLsn")), Lsn.parse((String) m.get("stopLsn")),
                Instant.parse((String) m.get("stopTime")), (String) m.get("prior"), refs,
                (String) m.getOrDefault("compression", "zst"));
    }
}
