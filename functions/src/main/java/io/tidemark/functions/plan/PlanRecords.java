package io.tidemark.functions.plan;

import io.tidemark.functions.catalog.CatalogStore;
import io.tidemark.functions.catalog.Item;
import io.tidemark.functions.catalog.Keys;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * {@code PLAN#<id>} (in the stanza's partition, with a pointer item {@code PK=PLAN#<id>, SK=PLAN}
 * naming the partition): a plan the planner signed, kept for URL renewal and for the record. It holds
 * who asked, for what, and every object key of the plan (zstd, base64, split over
 * {@code PLAN#<id>#<n>} items beyond {@link #CHUNK} characters: the signed document itself can be
 * megabytes, and an item is at most 400 KB). {@code expiresAt} (epoch seconds) is the table's TTL
 * attribute: a plan is removed {@link #KEEP_AFTER_EXPIRY} after it expired, so that renewal answers
 * 410 rather than 404 for a while.
 */
public final class PlanRecords {

    static final int CHUNK = io.tidemark.functions.catalog.PackedLines.CHUNK;
    static final Duration KEEP_AFTER_EXPIRY = Duration.ofDays(7);

    private final CatalogStore store;

    public PlanRecords(CatalogStore store) {
        this.store = store;
    }

    /** A stored plan. */
    public record Record(String planId, String stanza, Instant createdAt, Instant planExpiresAt, String createdBy,
                         String backup, long timeline, String target, String documentSha256, List<String> keys) {
    }

    public void put(String pk, Record r) {
        String packed = pack(r.keys());
        List<String> chunks = new ArrayList<>();
        for (int i = 0; i < packed.length(); i += CHUNK) {
            chunks.add(packed.substring(i, Math.min(packed.length(), i + CHUNK)));
        }
        long ttl = r.planExpiresAt().plus(KEEP_AFTER_EXPIRY).getEpochSecond();
        for (int n = 1; n < chunks.size(); n++) {
            Map<String, Object> c = new TreeMap<>();
            c.put("kind", "planKeys");
            c.put("keys", chunks.get(n));
            c.put("expiresAt", ttl);
            write(Item.of(pk, Keys.plan(r.planId()) + "#" + n, c));
        }
        Map<String, Object> a = new TreeMap<>();
        a.put("kind", "plan");
        a.put("planId", r.planId());
        a.put("stanza", r.stanza());
        a.put("createdAt", r.createdAt().toString());
        a.put("planExpiresAt", r.planExpiresAt().toString());
        a.put("expiresAt", ttl);
        a.put("createdBy", r.createdBy());
        a.put("backup", r.backup());
        a.put("timeline", r.timeline());
        a.put("target", r.target());
        a.put("documentSha256", r.documentSha256());
        a.put("keyCount", (long) r.keys().size());
        a.put("keyChunks", (long) chunks.size());
        a.put("keys", chunks.isEmpty() ? "" : chunks.get(0));
        write(Item.of(pk, Keys.plan(r.planId()), a));
        // The renewal route carries only the id: a pointer in the plan's own partition says the stanza.
        Map<String, Object> p = new TreeMap<>();
        p.put("kind", "planPointer");
        p.put("stanzaPk", pk);
        p.put("expiresAt", ttl);
        write(Item.of(Keys.plan(r.planId()), POINTER, p));
    }

    static final String POINTER = "PLAN";

    /** The stored plan with this id, wherever its stanza: two GetItems. */
    public Optional<Record> get(String planId) {
        return store.get(Keys.plan(planId), POINTER).flatMap(p -> p.string("stanzaPk")).flatMap(pk -> get(pk, planId));
    }

    private void write(Item item) {
        if (!store.put(item.withRevision(), null)) {
            throw new IllegalStateException("plan item " + item.sk() + " exists already");
        }
    }

    /** Plans are looked up by id alone (the renewal route has no stanza): {@code pk} comes from the id's index item. */
    public Optional<Record> get(String pk, String planId) {
        Optional<Item> main = store.get(pk, Keys.plan(planId));
        if (main.isEmpty()) {
            return Optional.empty();
        }
        Item i = main.get();
        StringBuilder packed = new StringBuilder(i.string("keys").orElse(""));
        long chunks = i.number("keyChunks").orElse(1L);
        for (int n = 1; n < chunks; n++) {
            packed.append(store.get(pk, Keys.plan(planId) + "#" + n).flatMap(c -> c.string("keys"))
                    .orElseThrow(() -> new IllegalStateException("plan " + planId + ": a key chunk is missing")));
        }
        return Optional.of(new Record(planId, i.string("stanza").orElseThrow(),
                Instant.parse(i.string("createdAt").orElseThrow()), Instant.parse(i.string("planExpiresAt").orElseThrow()),
                i.string("createdBy").orElse(null), i.string("backup").orElse(null), i.number("timeline").orElse(0L),
                i.string("target").orElse(null), i.string("documentSha256").orElse(null), unpack(packed.toString())));
    }

    /**
     * A plan's objects as the record keeps them: one line each, the key, then a tab and the version
     * id when the plan names one (keys hold no tab: only {@code [0-9A-Za-z/_.-]}).
     */
    static List<String> objectLines(Map<String, String> versionsByKey) {
        List<String> out = new ArrayList<>();
        versionsByKey.forEach((k, v) -> out.add(v == null ? k : k + "\t" + v));
        return out;
    }

    /** The inverse of {@link #objectLines}: version by key (null: the current object). */
    static Map<String, String> objectVersions(List<String> lines) {
        Map<String, String> out = new java.util.LinkedHashMap<>();
        for (String l : lines) {
            int tab = l.indexOf('\t');
            out.put(tab < 0 ? l : l.substring(0, tab), tab < 0 ? null : l.substring(tab + 1));
        }
        return out;
    }

    static String pack(List<String> keys) {
        return io.tidemark.functions.catalog.PackedLines.pack(keys);
    }

    static List<String> unpack(String packed) {
        return io.tidemark.functions.catalog.PackedLines.unpack(packed);
    }
}
