package io.tidemark.shim.backup;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tidemark.events.backup.ManifestBundle;
import io.tidemark.events.backup.ManifestFile;
import io.tidemark.events.json.Json;
import io.tidemark.events.layout.BackupLabelName;
import io.tidemark.events.paths.SafeRelativePath;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * What a running backup has uploaded, kept in the spool ({@code <spool>/<stanza>/backup-resume.jsonl})
 * so that a run after an interruption can reuse the label and skip what is already stored.
 *
 * <p>JSON lines, appended and flushed after each stored object: a header ({@code label},
 * {@code type}, {@code prior}), a {@code kind=plan} line per run (the bundle ids it may use), then
 * one line per single object ({@code kind=file}) or bundle ({@code kind=bundle}, with its files),
 * each with size, modification time, SHA-256, stored SHA-256 and {@code readAt} (when the file
 * was read: a resumed run reuses a copy only when the file's time is safely before it). A later line for the same path or bundle wins; a torn last line is ignored. Deleted
 * once the manifest is stored. A cache of facts that are checked again before use (size and
 * modification time of the file, {@code stored-sha256} of the object by HEAD): a damaged or
 * foreign record costs a re-upload, never a wrong backup.
 */
final class ResumeRecord implements AutoCloseable {
    private static final ObjectMapper MAPPER = Json.mapper();

    /** A previous run's record. */
    record Previous(BackupLabelName label, String type, Optional<BackupLabelName> prior,
                    Map<SafeRelativePath, StoredFile> files, Map<Integer, StoredBundle> bundles, int plannedBundles) {
        /** The first bundle id no earlier run of this label planned or used. */
        int firstUnusedBundleId() {
            int next = plannedBundles;
            for (int id : bundles.keySet()) {
                next = Math.max(next, id + 1);
            }
            return next;
        }
    }

    /**
     * A stored single object, and when its file was read (a line without it, from an older shim,
     * reads as {@link Instant#MIN}: never reused).
     */
    record StoredFile(ManifestFile file, Instant readAt) {
    }

    /** A stored bundle, the files in it, and when they were read. */
    record StoredBundle(ManifestBundle bundle, List<ManifestFile> files, Instant readAt) {
    }

    private final Path file;
    private BufferedWriter writer;

    private ResumeRecord(Path file, BufferedWriter writer) {
        this.file = file;
        this.writer = writer;
    }

    Path file() {
        return file;
    }

    static Path fileFor(Path stanzaSpool) {
        return stanzaSpool.resolve("backup-resume.jsonl");
    }

    /** Reads a previous record; empty when there is none or it cannot be read. */
    static Optional<Previous> read(Path file) {
        if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
            return Optional.empty();
        }
        try {
            List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
            if (lines.isEmpty()) {
                return Optional.empty();
            }
            JsonNode h = MAPPER.readTree(lines.get(0));
            BackupLabelName label = BackupLabelName.parse(h.path("label").asText());
            Optional<BackupLabelName> prior = h.path("prior").isTextual()
                    ? Optional.of(BackupLabelName.parse(h.path("prior").asText())) : Optional.empty();
            Map<SafeRelativePath, StoredFile> files = new LinkedHashMap<>();
            Map<Integer, StoredBundle> bundles = new LinkedHashMap<>();
            int planned = 0;
            for (String line : lines.subList(1, lines.size())) {
                JsonNode n;
                try {
                    n = MAPPER.readTree(line);
                    if ("file".equals(n.path("kind").asText())) {
                        ManifestFile f = file(n, label, OptionalInt.empty(), 0);
                        files.put(f.path(), new StoredFile(f, readAt(n)));
                    } else if ("bundle".equals(n.path("kind").asText())) {
                        int id = n.path("id").asInt();
                        List<ManifestFile> in = new ArrayList<>();
                        for (JsonNode fn : n.path("files")) {
                            in.add(file(fn, label, OptionalInt.of(id), fn.path("offset").asLong()));
                        }
                        bundles.put(id, new StoredBundle(new ManifestBundle(id, n.path("storedSize").asLong(),
                                n.path("storedSha256").asText()), in, readAt(n)));
                    } else if ("plan".equals(n.path("kind").asText())) {
                        planned = Math.max(planned, n.path("bundlesBelow").asInt());
                    }
                } catch (IOException | RuntimeException torn) {
                    // a line cut by the interruption: ignore it
                }
            }
            return Optional.of(new Previous(label, h.path("type").asText(), prior, files, bundles, planned));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    private static Instant readAt(JsonNode n) {
        return n.path("readAt").isTextual() ? Instant.parse(n.path("readAt").asText()) : Instant.MIN;
    }

    private static ManifestFile file(JsonNode n, BackupLabelName label, OptionalInt bundle, long offset) {
        List<Long> errors = new ArrayList<>();
        n.path("pageChecksumErrors").forEach(e -> errors.add(e.asLong()));
        return new ManifestFile(SafeRelativePath.of(n.path("path").asText()), n.path("size").asLong(),
                n.path("sha256").asText(), Instant.parse(n.path("mtime").asText()), label, bundle, offset,
                n.path("storedSize").asLong(), n.path("storedSha256").asText(), errors,
                io.tidemark.events.backup.ManifestJson.blocks(n.get("blocks"), "blocks"));
    }

    /** Starts a record: a new one (truncating) or, when resuming, appending to the previous one. */
    static ResumeRecord open(Path file, BackupLabelName label, String type, Optional<BackupLabelName> prior, boolean append)
            throws IOException {
        Files.createDirectories(file.getParent());
        if (!append) {
            Files.deleteIfExists(file);
            Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        }
        // NOFOLLOW_LINKS: root may write this in PostgreSQL's user's spool, where that user could plant a link
        BufferedWriter w = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                StandardOpenOption.APPEND, LinkOption.NOFOLLOW_LINKS);
        ResumeRecord r = new ResumeRecord(file, w);
        if (append && endsTorn(file)) {
            // A run killed mid-line left a torn last line: end it, or the first new line would be glued to it and lost.
            w.write('\n');
            w.flush();
        }
        if (!append) {
            ObjectNode h = MAPPER.createObjectNode().put("label", label.toString()).put("type", type);
            prior.ifPresentOrElse(p -> h.put("prior", p.toString()), () -> h.putNull("prior"));
            r.line(h);
        }
        return r;
    }

    private static boolean endsTorn(Path file) throws IOException {
        try (java.nio.channels.SeekableByteChannel ch = Files.newByteChannel(file, LinkOption.NOFOLLOW_LINKS)) {
            if (ch.size() == 0) {
                return false;
            }
            java.nio.ByteBuffer last = java.nio.ByteBuffer.allocate(1);
            ch.position(ch.size() - 1).read(last);
            return last.get(0) != '\n';
        }
    }

    /**
     * Before any object is written: the bundle ids this run plans are below {@code bundlesBelow}, so
     * that a later run of the label never plans one of them again (a bundle stored but not yet
     * noted when the run was killed would hold other bytes under that key).
     */
    synchronized void plannedBundles(int bundlesBelow) throws IOException {
        line(MAPPER.createObjectNode().put("kind", "plan").put("bundlesBelow", bundlesBelow));
    }

    synchronized void storedFile(ManifestFile f, Instant readAt) throws IOException {
        ObjectNode n = fileJson(f).put("kind", "file").put("readAt", readAt.toString());
        line(n);
    }

    synchronized void storedBundle(ManifestBundle b, List<ManifestFile> files, Instant readAt) throws IOException {
        ObjectNode n = MAPPER.createObjectNode().put("kind", "bundle").put("id", b.id()).put("storedSize", b.storedSize())
                .put("storedSha256", b.storedSha256()).put("readAt", readAt.toString());
        ArrayNode a = n.putArray("files");
        files.forEach(f -> a.add(fileJson(f).put("offset", f.bundleOffset())));
        line(n);
    }

    private static ObjectNode fileJson(ManifestFile f) {
        ObjectNode n = MAPPER.createObjectNode().put("path", f.path().path()).put("size", f.size())
                .put("sha256", f.sha256()).put("mtime", f.mtime().toString()).put("storedSize", f.storedSize())
                .put("storedSha256", f.storedSha256());
        ArrayNode e = n.putArray("pageChecksumErrors");
        f.pageChecksumErrors().forEach(e::add);
        // a file stored block by block: its object holds only some blocks, useless without the map
        f.blocks().ifPresent(m -> n.set("blocks", io.tidemark.events.backup.ManifestJson.blocksJson(m)));
        return n;
    }

    private void line(JsonNode n) throws IOException {
        if (writer == null) {
            return;
        }
        writer.write(MAPPER.writeValueAsString(n));
        writer.write('\n');
        writer.flush();
    }

    /** The backup is complete: the record goes. */
    synchronized void delete() throws IOException {
        close();
        Files.deleteIfExists(file);
    }

    @Override
    public synchronized void close() throws IOException {
        if (writer != null) {
            writer.close();
            writer = null;
        }
    }
}
