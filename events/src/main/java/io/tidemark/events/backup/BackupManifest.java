package io.tidemark.events.backup;

import static io.tidemark.events.backup.ManifestFile.require;

import io.tidemark.events.layout.BackupLabelName;
import io.tidemark.events.layout.Compression;
import io.tidemark.events.layout.StanzaName;
import io.tidemark.events.paths.SafeRelativePath;
import io.tidemark.events.wal.Lsn;
import io.tidemark.events.wal.TimelineId;
import io.tidemark.events.wal.WalSegmentSize;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * What one base backup holds and where every byte of it is stored. Written last, as
 * {@code <stanza>/backup/<label>/manifest.json} (canonical JSON, see {@link ManifestJson}); its
 * arrival makes the cloud validate the backup, and nothing but a successful validation makes it
 * restorable.
 *
 * <p>A full backup stores every file; a differential stores what changed since its full; an
 * incremental what changed since its prior backup of any type. Unchanged files are referenced:
 * {@link ManifestFile#reference()} names the earlier backup of the same chain that stores them.
 * A large changed file is stored block by block ({@link BlockMap}): only its changed blocks, the
 * others read from the backups that stored them; {@link #references()} counts those too.
 *
 * @param formatVersion    {@link #FORMAT_VERSION}; readers refuse versions they do not know
 * @param systemIdentifier the cluster's system identifier, unsigned decimal
 * @param backupLabel      the {@code backup_label} content pg_backup_stop returned, stored as is
 * @param tablespaceMap    the {@code tablespace_map} content, when the cluster has tablespaces
 * @param directories      every directory to create on restore, including empty ones PostgreSQL needs
 */
public record BackupManifest(int formatVersion,
                             StanzaName stanza,
                             BackupLabelName label,
                             Optional<BackupLabelName> prior,
                             String systemIdentifier,
                             int pgVersionNum,
                             WalSegmentSize walSegmentSize,
                             TimelineId timeline,
                             Lsn startLsn,
                             Lsn stopLsn,
                             Instant startTime,
                             Instant stopTime,
                             boolean fromStandby,
                             boolean dataChecksums,
                             Compression compression,
                             String backupLabel,
                             Optional<String> tablespaceMap,
                             List<ManifestTablespace> tablespaces,
                             List<SafeRelativePath> directories,
                             List<ManifestBundle> bundles,
                             List<ManifestFile> files) {

    public static final int FORMAT_VERSION = 1;
    /** The format with block maps ({@link ManifestFile#blocks()}); a manifest without any is written as 1. */
    public static final int BLOCKS_FORMAT_VERSION = 2;
    /**
     * Block maps, and every file this backup stores with a map has its {@link BlockDigest} as its
     * {@code sha256} (format 2: the whole content's SHA-256). A file it references keeps the
     * digest its own backup wrote, of either kind. Older readers refuse the format instead of
     * refusing the restored files.
     */
    public static final int BLOCK_DIGEST_FORMAT_VERSION = 3;

    /** The version to write for {@code files}: 3 only when a file has a block map, so older readers keep reading the rest. */
    public static int formatFor(List<ManifestFile> files) {
        return files.stream().anyMatch(ManifestFile::hasBlocks) ? BLOCK_DIGEST_FORMAT_VERSION : FORMAT_VERSION;
    }

    public BackupManifest {
        require(formatVersion >= FORMAT_VERSION && formatVersion <= BLOCK_DIGEST_FORMAT_VERSION, "manifest format "
                + formatVersion + " is not supported (this build reads " + FORMAT_VERSION + " to " + BLOCK_DIGEST_FORMAT_VERSION + ")");
        require(stanza != null, "stanza is missing");
        require(label != null, "label is missing");
        require(prior != null, "prior is missing (use Optional.empty())");
        if (label.isFull()) {
            require(prior.isEmpty(), "full backup " + label + " cannot have a prior backup");
        } else {
            require(prior.isPresent(), label.type() + " backup " + label + " needs a prior backup");
            BackupLabelName p = prior.get();
            require(p.fullStart().equals(label.fullStart()), "prior " + p + " belongs to another full backup than " + label);
            require(p.compareTo(label) < 0, "prior " + p + " is not older than " + label);
            if (label.type() == BackupLabelName.Type.DIFF) {
                require(p.isFull(), "differential " + label + " must follow its full backup, not " + p);
            }
        }
        require(systemIdentifier != null && systemIdentifier.matches("[0-9]{1,20}"),
                "systemIdentifier must be an unsigned decimal number, got '" + systemIdentifier + "'");
        require(pgVersionNum >= 130000 && pgVersionNum < 1_000_000, "pgVersionNum out of range: " + pgVersionNum);
        require(walSegmentSize != null && timeline != null, "walSegmentSize and timeline are required");
        require(startLsn != null && stopLsn != null && !stopLsn.isBefore(startLsn),
                "stopLsn " + stopLsn + " is before startLsn " + startLsn);
        require(startTime != null && stopTime != null && !stopTime.isBefore(startTime),
                "stopTime " + stopTime + " is before startTime " + startTime);
        require(compression != null, "compression is missing");
        require(backupLabel != null && !backupLabel.isEmpty(), "backupLabel content is missing");
        require(tablespaceMap != null, "tablespaceMap is missing (use Optional.empty())");
        tablespaces = List.copyOf(tablespaces);
        directories = List.copyOf(directories);
        bundles = List.copyOf(bundles);
        files = List.copyOf(files);

        Set<Integer> bundleIds = new HashSet<>();
        for (ManifestBundle b : bundles) {
            require(bundleIds.add(b.id()), "bundle " + b.id() + " listed twice");
        }
        Set<SafeRelativePath> paths = new HashSet<>();
        for (ManifestFile f : files) {
            require(paths.add(f.path()), "file " + f.path() + " listed twice");
            BackupLabelName ref = f.reference();
            require(ref.fullStart().equals(label.fullStart()) && ref.compareTo(label) <= 0,
                    f.path() + ": reference " + ref + " is not this backup or an earlier one of its chain");
            if (ref.equals(label) && f.bundle().isPresent()) {
                require(bundleIds.contains(f.bundle().getAsInt()), f.path() + ": bundle " + f.bundle().getAsInt() + " is not listed");
            }
            if (label.isFull()) {
                require(ref.equals(label), f.path() + ": a full backup stores every file itself, but it references " + ref);
            }
            require(formatVersion >= BLOCKS_FORMAT_VERSION || f.blocks().isEmpty(),
                    f.path() + ": a block map needs manifest format " + BLOCKS_FORMAT_VERSION);
            if (formatVersion >= BLOCK_DIGEST_FORMAT_VERSION && ref.equals(label) && f.blocks().isPresent()
                    && !f.digestByBlocks()) {
                throw new ManifestException(f.path() + ": sha256 " + f.sha256() + " is not the digest of its block map ("
                        + BlockDigest.of(f.size(), f.blocks().get()) + ")");
            }
        }
        Set<Long> oids = new HashSet<>();
        for (ManifestTablespace t : tablespaces) {
            require(oids.add(t.oid()), "tablespace " + t.oid() + " listed twice");
        }
    }

    public BackupLabelName.Type type() {
        return label.type();
    }

    /** Bytes of every file as PostgreSQL has them. */
    public long originalSize() {
        return files.stream().mapToLong(ManifestFile::size).sum();
    }

    /** Bytes of the files this backup stores itself (what a differential or incremental adds). */
    public long deltaSize() {
        return files.stream().filter(f -> f.reference().equals(label)).mapToLong(ManifestFile::size).sum();
    }

    /** Bytes this backup put into storage (after compression). */
    public long storedSize() {
        return files.stream().filter(f -> f.reference().equals(label) && f.bundle().isEmpty())
                .mapToLong(ManifestFile::storedSize).sum()
                + bundles.stream().mapToLong(ManifestBundle::storedSize).sum();
    }

    /** The earlier backups this one needs for restore (every distinct reference but itself). */
    public List<BackupLabelName> references() {
        return files.stream().flatMap(f -> java.util.stream.Stream.concat(java.util.stream.Stream.of(f.reference()),
                        f.blocks().stream().flatMap(b -> b.blocks().stream().map(BlockMap.Block::reference))))
                .filter(r -> !r.equals(label)).distinct().sorted().toList();
    }
}
