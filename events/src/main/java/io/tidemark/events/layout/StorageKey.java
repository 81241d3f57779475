package io.tidemark.events.layout;

import io.tidemark.events.paths.SafeRelativePath;
import io.tidemark.events.wal.TimelineId;
import io.tidemark.events.wal.WalFileName;
import io.tidemark.events.wal.WalSegmentName;

import java.util.Objects;

/**
 * Every kind of object Tidemark keeps in S3, as {@link StorageLayout#parse} classifies a key.
 * Each kind knows its own key ({@link #key()}), built by {@link StorageLayout}, so that
 * {@code StorageLayout.parse(k.key(), size).equals(k)} for every valid value.
 */
public sealed interface StorageKey {

    StanzaName stanza();

    /** The S3 key of this object. */
    String key();

    /** A WAL segment, {@code .partial} segment or {@code .backup} history file (not a timeline history). */
    record WalObject(StanzaName stanza, WalFileName name, Compression compression) implements StorageKey {
        public WalObject {
            Objects.requireNonNull(stanza, "stanza");
            Objects.requireNonNull(name, "WAL file name");
            Objects.requireNonNull(compression, "compression");
            if (name instanceof WalFileName.History) {
                throw new IllegalArgumentException("timeline history files are HistoryObjects, stored uncompressed");
            }
        }

        public String key() {
            return StorageLayout.walKey(stanza, name, compression);
        }
    }

    /**
     * A chunk of a WAL segment streamed by the agent before the segment is complete (issue 17):
     * the bytes {@code [start, end)} of {@code segment}, exactly as PostgreSQL wrote them at those
     * offsets, compressed as {@code compression} says. Written create-only like every object; the
     * chunks of one segment follow each other ({@code start} of one is {@code end} of the one before),
     * and two chunks that overlap hold the same bytes where they overlap. The complete segment,
     * once archive_command delivers it, supersedes them.
     */
    record WalChunk(StanzaName stanza, WalSegmentName segment, long start, long end, Compression compression)
            implements StorageKey {
        public WalChunk {
            Objects.requireNonNull(stanza, "stanza");
            Objects.requireNonNull(segment, "segment");
            Objects.requireNonNull(compression, "compression");
            requireRange(segment, start, end);
        }

        static void requireRange(WalSegmentName segment, long start, long end) {
            if (start < 0 || end <= start || end > segment.segmentSize().bytes()) {
                throw new IllegalArgumentException("chunk [" + start + ", " + end + ") of " + segment.toString()
                        + " is not a non-empty range within its " + segment.segmentSize().bytes() + " bytes");
            }
        }

        /** The number of WAL bytes the chunk holds. */
        public long length() {
            return end - start;
        }

        public String key() {
            return StorageLayout.walChunkKey(stanza, segment, start, end, compression);
        }
    }

    /** A timeline {@code .history} file, stored uncompressed. */
    record HistoryObject(StanzaName stanza, TimelineId timeline) implements StorageKey {
        public HistoryObject {
            Objects.requireNonNull(stanza, "stanza");
            new WalFileName.History(timeline);
        }

        public WalFileName.History name() {
            return new WalFileName.History(timeline);
        }

        public String key() {
            return StorageLayout.historyKey(stanza, timeline);
        }
    }

    /** A backup's {@code manifest.json}: written last, its arrival triggers validation. */
    record ManifestObject(StanzaName stanza, BackupLabelName label) implements StorageKey {
        public ManifestObject {
            Objects.requireNonNull(stanza, "stanza");
            Objects.requireNonNull(label, "backup label");
        }

        public String key() {
            return StorageLayout.manifestKey(stanza, label);
        }
    }

    /** One file of a backup, stored under its path relative to the data directory. */
    record BackupFileObject(StanzaName stanza, BackupLabelName label, SafeRelativePath path, Compression compression)
            implements StorageKey {
        public BackupFileObject {
            Objects.requireNonNull(stanza, "stanza");
            Objects.requireNonNull(label, "backup label");
            Objects.requireNonNull(path, "path");
            Objects.requireNonNull(compression, "compression");
            StorageLayout.requireKeySafe(path);
        }

        public String key() {
            return StorageLayout.backupFileKey(stanza, label, path, compression);
        }
    }

    /** A bundle of small backup files; which files and where is in the manifest. */
    record BundleObject(StanzaName stanza, BackupLabelName label, long index, Compression compression)
            implements StorageKey {
        public BundleObject {
            Objects.requireNonNull(stanza, "stanza");
            Objects.requireNonNull(label, "backup label");
            Objects.requireNonNull(compression, "compression");
            if (index < 0) {
                throw new IllegalArgumentException("bundle index must not be negative: " + index);
            }
        }

        public String key() {
            return StorageLayout.bundleKey(stanza, label, index, compression);
        }
    }

    /** The stanza's {@code stanza.json}: system identifier, PostgreSQL version, WAL segment size. */
    record StanzaObject(StanzaName stanza) implements StorageKey {
        public StanzaObject {
            Objects.requireNonNull(stanza, "stanza");
        }

        public String key() {
            return StorageLayout.stanzaKey(stanza);
        }
    }
}
