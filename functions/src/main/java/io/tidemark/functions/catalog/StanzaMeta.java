package io.tidemark.functions.catalog;

import io.tidemark.events.layout.StanzaName;
import io.tidemark.events.wal.WalSegmentSize;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * The {@code META} item of a stanza: which cluster it is (system identifier, an unsigned 64-bit
 * number kept as decimal text), its PostgreSQL version and WAL segment size, and when it was
 * created. Written once, by stanza-create.
 */
public record StanzaMeta(
        StanzaName stanza,
        String systemIdentifier,
        int pgVersion,
        int pgVersionNum,
        WalSegmentSize walSegmentSize,
        Instant createdAt) {

    public StanzaMeta {
        Objects.requireNonNull(stanza, "stanza");
        Objects.requireNonNull(systemIdentifier, "systemIdentifier");
        Objects.requireNonNull(walSegmentSize, "walSegmentSize");
        Objects.requireNonNull(createdAt, "createdAt");
    }

    /** The system identifier as the (signed) long the WAL scanner reports. */
    public long systemIdentifierBits() {
        return Long.parseUnsignedLong(systemIdentifier);
    }

    public Item toItem() {
        Map<String, Object> a = new TreeMap<>();
        a.put("kind", "stanza");
        a.put("stanza", stanza.value());
        a.put("systemIdentifier", systemIdentifier);
        a.put("pgVersion", (long) pgVersion);
        a.put("pgVersionNum", (long) pgVersionNum);
        a.put("walSegmentSize", (long) walSegmentSize.bytes());
        a.put("createdAt", createdAt.toString());
        return Item.of(Keys.pk(stanza), Keys.META, a);
    }

    public static StanzaMeta fromItem(Item item) {
        return new StanzaMeta(
                StanzaName.of(item.string("stanza").orElseThrow()),
                item.string("systemIdentifier").orElseThrow(),
                item.number("pgVersion").orElseThrow().intValue(),
                item.number("pgVersionNum").orElseThrow().intValue(),
                WalSegmentSize.ofBytes(item.number("walSegmentSize").orElseThrow()),
                Instant.parse(item.string("createdAt").orElseThrow()));
    }

    /** The document of {@code <stanza>/stanza.json} and of the API answers (without {@code created}). */
    public Map<String, Object> document() {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("stanza", stanza.value());
        d.put("systemIdentifier", systemIdentifier);
        d.put("pgVersion", pgVersion);
        d.put("pgVersionNum", pgVersionNum);
        d.put("walSegmentSize", walSegmentSize.bytes());
        d.put("createdAt", createdAt.toString());
        return d;
    }
}
