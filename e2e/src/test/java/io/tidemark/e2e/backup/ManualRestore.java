package io.tidemark.e2e.backup;

import io.tidemark.events.backup.BackupManifest;
import io.tidemark.events.backup.ManifestFile;
import io.tidemark.events.backup.ManifestJson;
import io.tidemark.events.backup.ManifestTablespace;
import io.tidemark.events.layout.BackupLabelName;
import io.tidemark.events.layout.StanzaName;
import io.tidemark.events.layout.StorageLayout;
import io.tidemark.events.paths.SafeRelativePath;
import io.tidemark.shim.storage.Codec;
import io.tidemark.shim.storage.ObjectStore;
import io.tidemark.testkit.RunAs;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * A restore by hand, for the tests until the restore command exists: reads the manifest, downloads
 * every file from the backup that stores it (a single object or a slice of a bundle), checks both
 * checksums, writes it; creates every directory; tablespaces go to new directories, named in a
 * rewritten tablespace_map (PostgreSQL makes the links from it at start).
 */
final class ManualRestore {
    private final ObjectStore store;
    private final StanzaName stanza;
    private final Map<BackupLabelName, BackupManifest> manifests = new HashMap<>();
    private final Map<String, byte[]> bundles = new HashMap<>();

    ManualRestore(ObjectStore store, StanzaName stanza) {
        this.store = store;
        this.stanza = stanza;
    }

    BackupManifest manifest(BackupLabelName label) {
        return manifests.computeIfAbsent(label, l -> ManifestJson.read(store.get(StorageLayout.manifestKey(stanza, l))
                .orElseThrow(() -> new AssertionError("no manifest for " + l)).data()));
    }

    /** Restores {@code label} into the empty {@code dataDir}; tablespaces under {@code tablespaceRoot/<oid>}. */
    BackupManifest restore(BackupLabelName label, Path dataDir, Path tablespaceRoot, RunAs owner) throws IOException {
        BackupManifest m = manifest(label);
        for (SafeRelativePath d : m.directories()) {
            Path target = target(d, dataDir, tablespaceRoot);
            if (target != null) {
                Files.createDirectories(target);
            }
        }
        for (ManifestFile f : m.files()) {
            Path target = target(f.path(), dataDir, tablespaceRoot);
            if (target == null) {
                throw new AssertionError("a file where a tablespace link belongs: " + f.path());
            }
            byte[] raw = content(f);
            if (f.path().path().equals("tablespace_map")) {
                StringBuilder sb = new StringBuilder();
                for (ManifestTablespace t : m.tablespaces()) {
                    sb.append(t.oid()).append(' ').append(tablespaceRoot.resolve(String.valueOf(t.oid()))).append('\n');
                }
                raw = sb.toString().getBytes(StandardCharsets.UTF_8);
            }
            Files.createDirectories(target.getParent());
            Files.write(target, raw);
        }
        Files.writeString(dataDir.resolve("recovery.signal"), "");
        for (Path root : List.of(dataDir, tablespaceRoot)) {
            if (!Files.exists(root)) {
                continue;
            }
            try (Stream<Path> s = Files.walk(root)) {
                for (Path p : (Iterable<Path>) s::iterator) {
                    Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(Files.isDirectory(p) ? "rwx------" : "rw-------"));
                    owner.giveOwnership(p);
                }
            }
        }
        return m;
    }

    /** The original bytes of a file, from the backup that stores them, both checksums verified. */
    byte[] content(ManifestFile f) throws IOException {
        if (f.blocks().isPresent()) {
            return assembled(f, f.blocks().get());
        }
        BackupManifest holder = manifest(f.reference());
        byte[] stored;
        if (f.bundle().isPresent()) {
            String key = StorageLayout.bundleKey(stanza, f.reference(), f.bundle().getAsInt(), holder.compression());
            byte[] bundle = bundles.computeIfAbsent(key, k -> store.get(k).orElseThrow(() -> new AssertionError("missing " + k)).data());
            stored = Arrays.copyOfRange(bundle, (int) f.bundleOffset(), (int) (f.bundleOffset() + f.storedSize()));
        } else {
            String key = StorageLayout.backupFileKey(stanza, f.reference(), f.path(), holder.compression());
            stored = store.get(key).orElseThrow(() -> new AssertionError("missing " + key)).data();
        }
        if (!sha256(stored).equals(f.storedSha256())) {
            throw new AssertionError(f.path() + ": stored SHA-256 differs");
        }
        byte[] raw = Codec.decompress(holder.compression(), stored);
        if (raw.length != f.size() || !sha256(raw).equals(f.sha256())) {
            throw new AssertionError(f.path() + ": content differs from the manifest");
        }
        return raw;
    }

    /**
     * A block-mapped file: each block read from the object of the backup that stores it (at its
     * offset), decompressed and checked against its own SHA-256, then the whole file against the
     * manifest (its digest recomputed from the assembled bytes).
     */
    private byte[] assembled(ManifestFile f, io.tidemark.events.backup.BlockMap map) throws IOException {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream((int) f.size());
        int index = 0;
        for (io.tidemark.events.backup.BlockMap.Block b : map.blocks()) {
            BackupManifest holder = manifest(b.reference());
            String key = StorageLayout.backupFileKey(stanza, b.reference(), f.path(), holder.compression());
            byte[] object = bundles.computeIfAbsent(key, k -> store.get(k).orElseThrow(() -> new AssertionError("missing " + k)).data());
            byte[] stored = Arrays.copyOfRange(object, (int) b.offset(), (int) (b.offset() + b.storedSize()));
            byte[] raw = Codec.decompress(holder.compression(), stored);
            if (!sha256(raw).equals(b.sha256())) {
                throw new AssertionError(f.path() + ": block " + index + " from " + b.reference() + " differs from its map");
            }
            out.write(raw);
            index++;
        }
        byte[] raw = out.toByteArray();
        if (raw.length != f.size() || !digestOf(raw, f, map).equals(f.sha256())) {
            throw new AssertionError(f.path() + ": assembled content differs from the manifest");
        }
        return raw;
    }

    /**
     * The assembled bytes' digest of the kind the manifest holds for {@code f}: the block digest
     * (format 3), recomputed here from the bytes, or the whole content's SHA-256 (format 2).
     */
    private static String digestOf(byte[] raw, ManifestFile f, io.tidemark.events.backup.BlockMap map) {
        if (!f.sha256().equals(io.tidemark.events.backup.BlockDigest.of(f.size(), map))) {
            return sha256(raw);
        }
        List<String> shas = new java.util.ArrayList<>();
        for (int at = 0; at < raw.length; at += map.blockSize()) {
            shas.add(sha256(Arrays.copyOfRange(raw, at, Math.min(raw.length, at + map.blockSize()))));
        }
        return io.tidemark.events.backup.BlockDigest.of(raw.length, map.blockSize(), shas);
    }

    private static Path target(SafeRelativePath p, Path dataDir, Path tablespaceRoot) {
        List<String> c = p.components();
        if (c.size() >= 2 && c.get(0).equals("pg_tblspc")) {
            if (c.size() == 2) {
                return null; // the link: PostgreSQL creates it from tablespace_map
            }
            Path t = tablespaceRoot.resolve(c.get(1));
            for (String part : c.subList(2, c.size())) {
                t = t.resolve(part);
            }
            return t;
        }
        return p.resolveUnder(dataDir);
    }

    static String sha256(byte[] b) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
