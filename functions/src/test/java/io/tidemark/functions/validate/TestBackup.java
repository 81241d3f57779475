package io.tidemark.functions.validate;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.github.luben.zstd.Zstd;
import io.tidemark.events.backup.BackupManifest;
import io.tidemark.events.backup.ManifestBundle;
import io.tidemark.events.backup.ManifestFile;
import io.tidemark.events.backup.ManifestJson;
import io.tidemark.events.json.CanonicalJson;
import io.tidemark.events.layout.BackupLabelName;
import io.tidemark.events.layout.Compression;
import io.tidemark.events.layout.StanzaName;
import io.tidemark.events.layout.StorageLayout;
import io.tidemark.events.paths.SafeRelativePath;
import io.tidemark.events.wal.Lsn;
import io.tidemark.events.wal.TimelineId;
import io.tidemark.functions.catalog.ObjectStore;
import io.tidemark.functions.index.TestWal;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.TreeMap;

/**
 * A small synthetic backup as the shim stores it: zstd, single files under {@code data/}, small
 * files in bundle 0, SHA-256 of raw and stored bytes, the manifest last. Files unchanged since
 * the prior backup are referenced, not stored. WAL: from segment 5 to 7 of {@link TestWal}
 * (timeline 1, 1 MB), unless other LSNs are given.
 */
public final class TestBackup {

    public static final Lsn START = Lsn.of(5L * TestWal.SIZE.bytes() + 0x28);
    public static final Lsn STOP = Lsn.of(7L * TestWal.SIZE.bytes() + 0x100);

    public final StanzaName stanza;
    public final BackupManifest manifest;
    /** Every object this backup stores itself, by key (manifest excluded). */
    public final Map<String, byte[]> objects;
    public final Map<String, byte[]> raw;

    TestBackup(StanzaName stanza, BackupManifest manifest, Map<String, byte[]> objects, Map<String, byte[]> raw) {
        this.stanza = stanza;
        this.manifest = manifest;
        this.objects = objects;
        this.raw = raw;
    }

    public static BackupLabelName fullLabel(int day) {
        return BackupLabelName.full(LocalDateTime.of(2026, 3, day, 1, 0, 0));
    }

    /** The label the shim gives a full backup started at {@code start} (UTC, whole seconds). */
    public static BackupLabelName fullLabelAt(Instant start) {
        return BackupLabelName.full(LocalDateTime.ofInstant(start.truncatedTo(java.time.temporal.ChronoUnit.SECONDS),
                java.time.ZoneOffset.UTC));
    }

    public static BackupLabelName childLabel(BackupLabelName full, BackupLabelName.Type type, int hour) {
        return BackupLabelName.childOf(full, type, full.fullStart().plusHours(hour));
    }

    /** The default content: two single files and three bundled ones. */
    public static Map<String, byte[]> files(String seed) {
        Map<String, byte[]> f = new TreeMap<>();
        f.put("PG_VERSION", "15\n".getBytes(StandardCharsets.UTF_8));
        f.put("global/pg_control", bytes(seed + "control", 8192));
        f.put("base/1/1259", bytes(seed + "1259", 40_000));
        f.put("base/1/1259_fsm", bytes(seed + "fsm", 3000));
        f.put("postgresql.auto.conf", "# empty\n".getBytes(StandardCharsets.UTF_8));
        return f;
    }

    public static final Set<String> BUNDLED = Set.of("PG_VERSION", "base/1/1259_fsm", "postgresql.auto.conf",
            "backup_label");

    public static TestBackup full(StanzaName stanza, BackupLabelName label, Map<String, byte[]> content) {
        return build(stanza, label, null, content, START, STOP);
    }

    /** A diff or incr on {@code prior}: files with the same content are referenced. */
    public static TestBackup child(TestBackup prior, BackupLabelName label, Map<String, byte[]> content) {
        return build(prior.stanza, label, prior, content, START, STOP);
    }

    public static TestBackup build(StanzaName stanza, BackupLabelName label, TestBackup prior,
                                   Map<String, byte[]> content, Lsn start, Lsn stop) {
        return build(stanza, label, prior, content, start, stop, TimelineId.FIRST,
                label.start().toInstant(java.time.ZoneOffset.UTC).plusSeconds(30));
    }

    /**
     * The backup_label text pg_backup_stop returns for a backup from {@code start} on
     * {@code timeline}, begun at {@code startTime} (log_timezone UTC).
     */
    public static String backupLabel(Lsn start, TimelineId timeline, Instant startTime) {
        return "START WAL LOCATION: " + start + " (file "
                + io.tidemark.events.wal.WalSegmentName.containing(timeline, start, TestWal.SIZE) + ")\n"
                + "CHECKPOINT LOCATION: " + Lsn.of(start.value() + 0x38) + "\n"
                + "BACKUP METHOD: streamed\n"
                + "BACKUP FROM: primary\n"
                + "START TIME: " + java.time.format.DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss")
                        .withZone(java.time.ZoneOffset.UTC).format(startTime) + " UTC\n"
                + "LABEL: tidemark\n"
                + "START TIMELINE: " + timeline.value() + "\n";
    }

    /** As above, on {@code timeline}, stopped at {@code stopTime} (started 30 s before). */
    public static TestBackup build(StanzaName stanza, BackupLabelName label, TestBackup prior,
                                   Map<String, byte[]> content, Lsn start, Lsn stop, TimelineId timeline,
                                   Instant stopTime) {
        Instant startTime = stopTime.minusSeconds(30);
        String labelText = backupLabel(start, timeline, startTime);
        content = new TreeMap<>(content);
        // As the shim does: pg_backup_stop's label is a file of the backup too.
        content.putIfAbsent("backup_label", labelText.getBytes(StandardCharsets.UTF_8));
        Map<String, byte[]> objects = new LinkedHashMap<>();
        List<ManifestFile> files = new ArrayList<>();
        ByteArrayOutputStream bundle = new ByteArrayOutputStream();
        Instant mtime = Instant.parse("2026-03-01T00:00:00Z");
        for (Map.Entry<String, byte[]> e : content.entrySet()) {
            SafeRelativePath path = SafeRelativePath.of(e.getKey());
            byte[] data = e.getValue();
            String sha = TestWal.sha256(data);
            if (prior != null) {
                Optional<ManifestFile> same = prior.manifest.files().stream()
                        .filter(f -> f.path().equals(path) && f.sha256().equals(sha)).findFirst();
                if (same.isPresent()) {
                    files.add(same.get());
                    continue;
                }
            }
            byte[] stored = Zstd.compress(data, 3);
            if (BUNDLED.contains(e.getKey())) {
                long offset = bundle.size();
                bundle.writeBytes(stored);
                files.add(new ManifestFile(path, data.length, sha, mtime, label, OptionalInt.of(0), offset,
                        stored.length, TestWal.sha256(stored), List.of()));
            } else {
                objects.put(StorageLayout.backupFileKey(stanza, label, path, Compression.ZSTD), stored);
                files.add(new ManifestFile(path, data.length, sha, mtime, label, OptionalInt.empty(), 0,
                        stored.length, TestWal.sha256(stored), List.of()));
            }
        }
        List<ManifestBundle> bundles = new ArrayList<>();
        if (bundle.size() > 0) {
            byte[] b = bundle.toByteArray();
            objects.put(StorageLayout.bundleKey(stanza, label, 0, Compression.ZSTD), b);
            bundles.add(new ManifestBundle(0, b.length, TestWal.sha256(b)));
        }
        BackupManifest m = new BackupManifest(BackupManifest.FORMAT_VERSION, stanza, label,
                prior == null ? Optional.empty() : Optional.of(prior.manifest.label()),
                TestWal.SYSTEM_ID_TEXT, 150004, TestWal.SIZE, timeline, start, stop,
                startTime, startTime.plusSeconds(30), false, true, Compression.ZSTD,
                labelText, Optional.empty(),
                List.of(), List.of(SafeRelativePath.of("base/1")), bundles, files);
        return new TestBackup(stanza, m, objects, content);
    }

    public String manifestKey() {
        return StorageLayout.manifestKey(stanza, manifest.label());
    }

    public byte[] manifestBytes() {
        return ManifestJson.write(manifest);
    }

    /** The manifest with {@code files[index].path} replaced (paths the schema would refuse). */
    public byte[] manifestWithPath(int index, String path) {
        ObjectNode json = ManifestJson.toJson(manifest);
        ((ObjectNode) json.get("files").get(index)).put("path", path);
        return CanonicalJson.canonicalize(json);
    }

    /** Uploads every object, then the manifest (last), as the shim does. */
    public void upload(ObjectStore store) {
        uploadObjects(store);
        uploadManifest(store, manifestBytes());
    }

    public void uploadObjects(ObjectStore store) {
        objects.forEach((k, v) -> store.put(k, v, "application/octet-stream",
                Map.of("sha256", TestWal.sha256(v), "stored-sha256", TestWal.sha256(v))));
    }

    public void uploadManifest(ObjectStore store, byte[] json) {
        store.put(manifestKey(), json, "application/json", Map.of("sha256", TestWal.sha256(json)));
    }

    static byte[] bytes(String seed, int n) {
        byte[] out = new byte[n];
        long x = seed.hashCode() * 0x9E3779B97F4A7C15L + 1;
        for (int i = 0; i < n; i++) {
            x ^= x << 13;
            x ^= x >>> 7;
            x ^= x << 17;
            // Compressible but not trivial: runs of a few values.
            out[i] = (byte) ((x >>> 60) & 0x7);
        }
        return out;
    }
}
