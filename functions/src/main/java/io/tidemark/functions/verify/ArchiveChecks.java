package io.tidemark.functions.verify;

import io.tidemark.events.layout.BackupLabelName;
import io.tidemark.events.layout.StanzaName;
import io.tidemark.events.layout.StorageLayout;
import io.tidemark.events.wal.Lsn;
import io.tidemark.events.wal.TimelineId;
import io.tidemark.events.wal.WalSegmentName;
import io.tidemark.events.wal.WalSegmentSize;
import io.tidemark.functions.catalog.BackupEntry;
import io.tidemark.functions.catalog.CatalogStore;
import io.tidemark.functions.catalog.Item;
import io.tidemark.functions.catalog.Keys;
import io.tidemark.functions.catalog.StanzaMeta;
import io.tidemark.functions.validate.BackupValidator;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The checks of a verify run that look at the archive as a whole, once every object was checked:
 * WAL continuity per timeline, the history of every timeline after the first, the chain and WAL
 * of every valid backup. An object this run found missing or damaged ({@code bad}) counts as absent.
 */
final class ArchiveChecks {

    private final CatalogStore catalog;

    ArchiveChecks(CatalogStore catalog) {
        this.catalog = catalog;
    }

    /** Present segments per timeline: archived in the catalog and not found bad by this run. */
    Map<Long, TreeSet<Long>> presentWal(StanzaMeta meta, String label, List<BackupEntry> backups,
                                                Set<String> bad) {
        String pk = Keys.pk(meta.stanza());
        List<Item> items = new ArrayList<>();
        List<String> attributes = List.of("segment", "status", "key");
        if (label == null) {
            items.addAll(catalog.queryBetween(pk, Keys.WAL_PREFIX, Keys.WAL_PREFIX + VerifyService.END, attributes));
        } else {
            for (BackupEntry b : backups) {
                BackupValidator.walRange(meta, b).ifPresent(r -> items.addAll(
                        catalog.queryBetween(pk, Keys.wal(r.first()), Keys.wal(r.last()), attributes)));
            }
        }
        Map<Long, TreeSet<Long>> present = new TreeMap<>();
        for (Item i : items) {
            Optional<String> segment = i.string("segment");
            if (segment.isEmpty() || !VerifyService.ARCHIVED.equals(i.string("status").orElse(null))
                    || bad.contains(i.string("key").orElse(""))) {
                continue;
            }
            WalSegmentName name = WalSegmentName.parse(segment.get(), meta.walSegmentSize());
            present.computeIfAbsent(name.timeline().value(), t -> new TreeSet<>()).add(name.segmentNumber());
        }
        return present;
    }

    /** Holes between the first and last present segment of each timeline: one problem per hole. */
    static List<VerifyProblem> gaps(WalSegmentSize size, Map<Long, TreeSet<Long>> present) {
        List<VerifyProblem> out = new ArrayList<>();
        for (Map.Entry<Long, TreeSet<Long>> e : present.entrySet()) {
            TimelineId tli = TimelineId.of(e.getKey());
            Long previous = null;
            for (long s : e.getValue()) {
                if (previous != null && s > previous + 1) {
                    WalSegmentName first = WalSegmentName.of(tli, previous + 1, size);
                    WalSegmentName last = WalSegmentName.of(tli, s - 1, size);
                    long n = s - previous - 1;
                    out.add(new VerifyProblem(first.toString(), VerifyProblem.Check.GAP, "contiguous WAL on timeline "
                            + e.getKey() + " from " + WalSegmentName.of(tli, previous, size) + " to "
                            + WalSegmentName.of(tli, s, size), n == 1 ? "segment " + first + " absent or damaged"
                            : n + " segments " + first + " to " + last + " absent or damaged"));
                }
                previous = s;
            }
        }
        return out;
    }

    /**
     * Every timeline after the first that has WAL needs its history file, intact; and the parent
     * it names must have WAL up to the segment before the switch (the switch segment itself is
     * read from the new timeline), unless the parent's WAL there is gone by retention.
     */
    List<VerifyProblem> historyProblems(StanzaMeta meta, Map<Long, TreeSet<Long>> present, Set<String> bad) {
        String pk = Keys.pk(meta.stanza());
        WalSegmentSize size = meta.walSegmentSize();
        List<VerifyProblem> out = new ArrayList<>();
        for (long t : present.keySet()) {
            if (t <= 1) {
                continue;
            }
            TimelineId tli = TimelineId.of(t);
            String key = StorageLayout.historyKey(meta.stanza(), tli);
            Optional<Item> h = catalog.get(pk, Keys.history(tli));
            if (h.isEmpty() || !VerifyService.ARCHIVED.equals(h.get().string("status").orElse(null))
                    || bad.contains(h.get().string("key").orElse(key))) {
                if (h.isEmpty()) {
                    out.add(new VerifyProblem(key, VerifyProblem.Check.HISTORY, "the history file of timeline " + t
                            + " (it has WAL)", "not in the catalog"));
                }
                continue; // a damaged or unusable one is reported as such already
            }
            Optional<Long> parent = h.get().number("parent");
            Optional<String> switchPoint = h.get().string("switchPoint");
            if (parent.isEmpty() || switchPoint.isEmpty()) {
                continue;
            }
            TreeSet<Long> parentWal = present.get(parent.get());
            long switchSegment = WalSegmentName.containing(TimelineId.of(parent.get()), Lsn.parse(switchPoint.get()),
                    size).segmentNumber();
            long needed = switchSegment - 1;
            if (parentWal == null || parentWal.isEmpty() || parentWal.first() > needed) {
                continue; // the parent's WAL before the switch is expired, or never was archived here
            }
            if (parentWal.last() < needed) {
                out.add(new VerifyProblem(key, VerifyProblem.Check.HISTORY, "timeline " + parent.get()
                        + " archived through " + WalSegmentName.of(TimelineId.of(parent.get()), needed, size)
                        + " (timeline " + t + " branches at " + switchPoint.get() + ")", "timeline " + parent.get()
                        + " ends at " + WalSegmentName.of(TimelineId.of(parent.get()), parentWal.last(), size)));
            }
        }
        return out;
    }

    /**
     * Every valid backup in scope: each earlier backup it depends on is in the catalog, valid, and
     * had no object found damaged or missing by this run; and its WAL from start to stop is present.
     */
    List<VerifyProblem> chainProblems(StanzaMeta meta, List<BackupEntry> backups, Map<Long, TreeSet<Long>> present,
                                      Set<String> bad) {
        StanzaName stanza = meta.stanza();
        Map<String, BackupEntry> known = new HashMap<>();
        for (Item i : catalog.query(Keys.pk(stanza), Keys.BACKUP_PREFIX)) {
            BackupEntry b = BackupEntry.fromItem(i);
            known.put(b.label(), b);
        }
        List<VerifyProblem> out = new ArrayList<>();
        for (BackupEntry b : backups) {
            if (!BackupEntry.VALID.equals(b.status())) {
                continue;
            }
            String key = b.manifestKey() != null ? b.manifestKey()
                    : StorageLayout.manifestKey(stanza, BackupLabelName.parse(b.label()));
            for (String e : VerifyService.earlier(b)) {
                BackupEntry dep = known.get(e);
                String expected = "backup " + e + " (which backup " + b.label() + " depends on) valid and intact";
                if (dep == null) {
                    out.add(new VerifyProblem(key, VerifyProblem.Check.CHAIN, expected, "not in the catalog"));
                } else if (!BackupEntry.VALID.equals(dep.status())) {
                    out.add(new VerifyProblem(key, VerifyProblem.Check.CHAIN, expected, "it is " + dep.status()));
                } else {
                    String prefix = StorageLayout.backupPrefix(stanza, BackupLabelName.parse(e));
                    bad.stream().filter(k -> k.startsWith(prefix)).sorted().findFirst().ifPresent(k ->
                            out.add(new VerifyProblem(key, VerifyProblem.Check.CHAIN, expected,
                                    "its object " + k + " is missing or damaged")));
                }
            }
            BackupValidator.walRange(meta, b).ifPresent(r -> {
                TreeSet<Long> wal = present.getOrDefault(r.first().timeline().value(), new TreeSet<>());
                for (long s = r.first().segmentNumber(); s <= r.last().segmentNumber(); s++) {
                    if (!wal.contains(s)) {
                        out.add(new VerifyProblem(key, VerifyProblem.Check.CHAIN, "WAL " + r.first() + " to "
                                + r.last() + " (start to stop of backup " + b.label() + ")", "segment "
                                + WalSegmentName.of(r.first().timeline(), s, meta.walSegmentSize())
                                + " missing or damaged"));
                        break;
                    }
                }
            });
        }
        return out;
    }
}
