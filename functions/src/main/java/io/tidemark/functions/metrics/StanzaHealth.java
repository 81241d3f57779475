package io.tidemark.functions.metrics;

import io.tidemark.events.layout.StanzaName;
import io.tidemark.events.metrics.TidemarkMetric;
import io.tidemark.functions.catalog.BackupEntry;
import io.tidemark.functions.catalog.CatalogStore;
import io.tidemark.functions.catalog.Item;
import io.tidemark.functions.catalog.Keys;
import io.tidemark.functions.catalog.StanzaMeta;
import io.tidemark.functions.catalog.TimelineAggregate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The two health metrics the stanza alarms watch, computed from the catalog and published:
 * {@link TidemarkMetric#ARCHIVE_LAG} (from the TIMELINE items' newest arrival) and
 * {@link TidemarkMetric#LAST_VALID_BACKUP_AGE} (from the BACKUP items' newest valid stop time).
 * Both fall back to the stanza's creation when there is nothing yet, so a stanza that never
 * archives or never backs up ages into its alarm rather than staying silent.
 *
 * <p>Each publication reads only what it needs: one Query of the few TIMELINE items for the lag,
 * one of the BACKUP items for the age. The indexer publishes the lag after each archived segment,
 * the validator the age after each valid backup, and the scheduled {@link StanzaMetricsHandler}
 * both, so that the values keep growing when no event arrives.
 */
public final class StanzaHealth {

    private final CatalogStore catalog;
    private final MetricsPublisher publisher;
    private final Clock clock;

    public StanzaHealth(CatalogStore catalog, MetricsPublisher publisher, Clock clock) {
        this.catalog = Objects.requireNonNull(catalog, "catalog");
        this.publisher = Objects.requireNonNull(publisher, "publisher");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /** Publishes the archive lag of {@code meta}'s stanza; returns it. */
    public long publishArchiveLag(StanzaMeta meta) {
        Instant now = clock.instant();
        long lag = archiveLagSeconds(meta, now);
        publisher.publish(meta.stanza(), now, Map.of(TidemarkMetric.ARCHIVE_LAG, lag));
        return lag;
    }

    /** Publishes the age of the newest valid backup of {@code meta}'s stanza; returns it. */
    public long publishBackupAge(StanzaMeta meta) {
        Instant now = clock.instant();
        long age = backupAgeSeconds(meta, now);
        publisher.publish(meta.stanza(), now, Map.of(TidemarkMetric.LAST_VALID_BACKUP_AGE, age));
        return age;
    }

    /**
     * Publishes both for {@code stanza} in one line; empty when the stanza does not exist (nothing
     * is published: the alarms that treat missing data as breaching say so).
     */
    public Optional<Map<TidemarkMetric, Long>> publishAll(StanzaName stanza) {
        Optional<StanzaMeta> meta = catalog.get(Keys.pk(stanza), Keys.META).map(StanzaMeta::fromItem);
        if (meta.isEmpty()) {
            return Optional.empty();
        }
        Instant now = clock.instant();
        Map<TidemarkMetric, Long> values = new EnumMap<>(TidemarkMetric.class);
        values.put(TidemarkMetric.ARCHIVE_LAG, archiveLagSeconds(meta.get(), now));
        values.put(TidemarkMetric.LAST_VALID_BACKUP_AGE, backupAgeSeconds(meta.get(), now));
        publisher.publish(stanza, now, values);
        return Optional.of(Map.copyOf(values));
    }

    /**
     * After a streamed chunk was indexed: {@link TidemarkMetric#STREAM_LAG}, seconds from the last
     * streamed commit ({@code lastCommit}) to now, how far the latest restorable point trails.
     */
    public long publishStreamLag(StanzaMeta meta, Instant lastCommit) {
        Instant now = clock.instant();
        long lag = seconds(lastCommit, now);
        publisher.publish(meta.stanza(), now, Map.of(TidemarkMetric.STREAM_LAG, lag));
        return lag;
    }

    /**
     * After a streamed chunk was indexed: {@link TidemarkMetric#STREAM_GAPS}, how many breaks the
     * window {@code refreshed} has past its right edge (missing WAL with WAL after it).
     */
    public long publishStreamGaps(StanzaMeta meta, io.tidemark.functions.window.RecoveryWindow refreshed) {
        long gaps = refreshed.breaks().size();
        publisher.publish(meta.stanza(), clock.instant(), Map.of(TidemarkMetric.STREAM_GAPS, gaps));
        return gaps;
    }

    long archiveLagSeconds(StanzaMeta meta, Instant now) {
        Instant newest = null;
        for (Item i : catalog.query(Keys.pk(meta.stanza()), Keys.TIMELINE_PREFIX)) {
            Instant at = TimelineAggregate.fromItem(i, meta.walSegmentSize()).lastArchivedAt();
            if (at != null && (newest == null || at.isAfter(newest))) {
                newest = at;
            }
        }
        return seconds(newest != null ? newest : meta.createdAt(), now);
    }

    long backupAgeSeconds(StanzaMeta meta, Instant now) {
        Instant newest = null;
        for (Item i : catalog.query(Keys.pk(meta.stanza()), Keys.BACKUP_PREFIX)) {
            BackupEntry b = BackupEntry.fromItem(i);
            Instant stop = BackupEntry.VALID.equals(b.status()) ? stopTime(b) : null;
            if (stop != null && (newest == null || stop.isAfter(newest))) {
                newest = stop;
            }
        }
        return seconds(newest != null ? newest : meta.createdAt(), now);
    }

    /** The stop time, or null when the item has none that parses (it then counts as no backup). */
    private static Instant stopTime(BackupEntry b) {
        try {
            return b.stopTime() == null ? null : Instant.parse(b.stopTime());
        } catch (java.time.format.DateTimeParseException e) {
            return null;
        }
    }

    private static long seconds(Instant from, Instant now) {
        return Math.max(0, Duration.between(from, now).toSeconds());
    }
}
