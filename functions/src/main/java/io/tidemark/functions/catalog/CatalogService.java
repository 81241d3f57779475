package io.tidemark.functions.catalog;

import io.tidemark.events.json.CanonicalJson;
import io.tidemark.events.layout.StanzaName;
import io.tidemark.events.layout.StorageLayout;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Stanzas in the catalog: create ({@code stanza-create}) and describe ({@code info}).
 *
 * <p>Create is a conditional put of META: the first caller creates, a repeat with the same
 * system identifier is a no-op answered {@code created=false}, a different cluster is a
 * conflict. {@code <stanza>/stanza.json} in the bucket is (re)written with the stored document
 * after the item, so a crash in between is repaired by the next call.
 *
 * <p>Describe reads META, the TIMELINE and BACKUP items, the backup lease and the WINDOW item
 * (three GetItems, two Queries), never WAL items.
 */
public final class CatalogService {

    private final CatalogStore store;
    private final ObjectStore objects;
    private final Clock clock;

    public CatalogService(CatalogStore store, ObjectStore objects, Clock clock) {
        this.store = store;
        this.objects = objects;
        this.clock = clock;
    }

    public record CreateResult(StanzaMeta meta, boolean created) {
    }

    public CreateResult createStanza(String stanzaText, byte[] body) {
        StanzaName stanza = stanzaName(stanzaText);
        CreateStanzaRequest request = CreateStanzaRequest.parse(body);
        StanzaMeta candidate = new StanzaMeta(stanza, request.systemIdentifier(), request.pgVersion(),
                request.pgVersionNum(), request.walSegmentSize(), clock.instant().truncatedTo(ChronoUnit.MILLIS));
        boolean created = store.put(candidate.toItem().withRevision(), null);
        StanzaMeta stored = created ? candidate : meta(stanza).orElseThrow(
                () -> new IllegalStateException("META of stanza " + stanza + " exists and cannot be read"));
        if (!created) {
            if (!stored.systemIdentifier().equals(request.systemIdentifier())) {
                throw new CatalogException(CatalogException.Kind.CONFLICT, "stanza '" + stanza + "' belongs to system "
                        + stored.systemIdentifier() + ", not " + request.systemIdentifier());
            }
            if (stored.pgVersion() != request.pgVersion()) {
                throw new CatalogException(CatalogException.Kind.CONFLICT, "stanza '" + stanza + "' is PostgreSQL "
                        + stored.pgVersion() + ", not " + request.pgVersion());
            }
            if (!stored.walSegmentSize().equals(request.walSegmentSize())) {
                throw new CatalogException(CatalogException.Kind.CONFLICT, "stanza '" + stanza
                        + "' has WAL segments of " + stored.walSegmentSize().bytes() + " bytes, not "
                        + request.walSegmentSize().bytes());
            }
        }
        byte[] json = CanonicalJson.canonicalize(stored.document());
        objects.put(StorageLayout.stanzaKey(stanza), json, "application/json", Map.of(ObjectStore.SHA256, sha256(json)));
        return new CreateResult(stored, created);
    }

    public StanzaView describe(String stanzaText) {
        StanzaName stanza = stanzaName(stanzaText);
        StanzaMeta meta = meta(stanza).orElseThrow(() -> new CatalogException(CatalogException.Kind.NOT_FOUND,
                "no stanza '" + stanza + "'; run tidemark stanza-create"));
        List<TimelineAggregate> timelines = new ArrayList<>();
        // Ranges only grow (a join); what retention removed is clipped off by its watermark.
        java.util.Map<io.tidemark.events.wal.TimelineId, Long> expired = ExpiredWal.read(store, Keys.pk(stanza));
        for (Item item : store.query(Keys.pk(stanza), Keys.TIMELINE_PREFIX)) {
            TimelineAggregate t = TimelineAggregate.fromItem(item, meta.walSegmentSize());
            timelines.add(ExpiredWal.clip(t, expired.get(t.timeline())));
        }
        List<BackupEntry> backups = new ArrayList<>();
        for (Item item : store.query(Keys.pk(stanza), Keys.BACKUP_PREFIX)) {
            backups.add(BackupEntry.fromItem(item));
        }
        Instant now = clock.instant();
        Optional<BackupLease> lease = store.get(Keys.pk(stanza), Keys.BACKUP_LEASE).map(BackupLease::fromItem)
                .filter(l -> l.heldAt(now));
        io.tidemark.functions.window.RecoveryWindow window = store.get(Keys.pk(stanza), Keys.WINDOW)
                .map(i -> io.tidemark.functions.window.RecoveryWindow.fromList(i.list("timelines")))
                .orElse(io.tidemark.functions.window.RecoveryWindow.EMPTY);
        return new StanzaView(meta, timelines, backups, lease, window, lost(meta, timelines));
    }

    /**
     * The WAL segments and history files held as lost, from their items: one GetItem per lost
     * segment (at most {@link LostObject#MAX_LISTED}), one Query of the few HISTORY items.
     */
    private List<LostObject> lost(StanzaMeta meta, List<TimelineAggregate> timelines) {
        String pk = Keys.pk(meta.stanza());
        List<LostObject> out = new ArrayList<>();
        for (TimelineAggregate t : timelines) {
            for (SegmentRanges.Range r : t.lost().ranges()) {
                for (long n = r.start(); n <= r.end() && out.size() < LostObject.MAX_LISTED; n++) {
                    store.get(pk, Keys.wal(io.tidemark.events.wal.WalSegmentName.of(t.timeline(), n,
                            meta.walSegmentSize()))).flatMap(LostObject::of).ifPresent(out::add);
                }
            }
        }
        for (Item h : store.query(pk, Keys.HISTORY_PREFIX)) {
            LostObject.of(h).ifPresent(out::add);
        }
        return out;
    }

    public Optional<StanzaMeta> meta(StanzaName stanza) {
        return store.get(Keys.pk(stanza), Keys.META).map(StanzaMeta::fromItem);
    }

    private static StanzaName stanzaName(String text) {
        try {
            return StanzaName.of(text);
        } catch (IllegalArgumentException e) {
            throw CatalogException.badRequest(e.getMessage());
        }
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** For tests and callers that want "now" in the same precision as stored times. */
    public Instant now() {
        return clock.instant().truncatedTo(ChronoUnit.MILLIS);
    }
}
