package io.tidemark.events.backup;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tidemark.events.json.CanonicalJson;
import io.tidemark.events.layout.BackupLabelName;
import io.tidemark.events.layout.Compression;
import io.tidemark.events.layout.StanzaName;
import io.tidemark.events.paths.SafeRelativePath;
import io.tidemark.events.wal.Lsn;
import io.tidemark.events.wal.TimelineId;
import io.tidemark.events.wal.WalSegmentSize;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.function.Function;

/**
 * The manifest's JSON form: canonical JSON (sorted keys, integers only), LSNs as {@code X/X},
 * times as ISO-8601 UTC, the system identifier as a decimal string. Reading validates every field
 * and refuses unsafe paths; the error names the field.
 */
public final class ManifestJson {
    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    private ManifestJson() {
    }

    public static byte[] write(BackupManifest m) {
        return CanonicalJson.canonicalize(toJson(m));
    }

    public static ObjectNode toJson(BackupManifest m) {
        ObjectNode o = F.objectNode();
        o.put("formatVersion", m.formatVersion());
        o.put("stanza", m.stanza().toString());
        o.put("label", m.label().toString());
        o.put("type", m.type().name().toLowerCase());
        m.prior().ifPresentOrElse(p -> o.put("prior", p.toString()), () -> o.putNull("prior"));
        o.put("systemIdentifier", m.systemIdentifier());
        o.put("pgVersionNum", m.pgVersionNum());
        o.put("walSegmentSize", m.walSegmentSize().bytes());
        o.put("timeline", m.timeline().value());
        o.put("startLsn", m.startLsn().toString());
        o.put("stopLsn", m.stopLsn().toString());
        o.put("startTime", m.startTime().toString());
        o.put("stopTime", m.stopTime().toString());
        o.put("fromStandby", m.fromStandby());
        o.put("dataChecksums", m.dataChecksums());
        o.put("compression", m.compression().extension());
        o.put("backupLabel", m.backupLabel());
        m.tablespaceMap().ifPresentOrElse(t -> o.put("tablespaceMap", t), () -> o.putNull("tablespaceMap"));
        ArrayNode ts = o.putArray("tablespaces");
        m.tablespaces().forEach(t -> ts.addObject().put("oid", t.oid()).put("name", t.name()).put("location", t.location()));
        ArrayNode dirs = o.putArray("directories");
        m.directories().forEach(d -> dirs.add(d.path()));
        ArrayNode bundles = o.putArray("bundles");
        m.bundles().forEach(b -> bundles.addObject().put("id", b.id()).put("storedSize", b.storedSize())
                .put("storedSha256", b.storedSha256()));
        ArrayNode files = o.putArray("files");
        for (ManifestFile f : m.files()) {
            ObjectNode fo = files.addObject();
            fo.put("path", f.path().path());
            fo.put("size", f.size());
            fo.put("sha256", f.sha256());
            fo.put("mtime", f.mtime().toString());
            fo.put("reference", f.reference().toString());
            if (f.bundle().isPresent()) {
                fo.put("bundle", f.bundle().getAsInt());
                fo.put("bundleOffset", f.bundleOffset());
            }
            fo.put("storedSize", f.storedSize());
            fo.put("storedSha256", f.storedSha256());
            ArrayNode errs = fo.putArray("pageChecksumErrors");
            f.pageChecksumErrors().forEach(errs::add);
            f.blocks().ifPresent(map -> fo.set("blocks", blocksJson(map)));
        }
        o.put("originalSize", m.originalSize());
        o.put("deltaSize", m.deltaSize());
        o.put("storedSize", m.storedSize());
        return o;
    }

    /** Parses and validates; every problem is a {@link ManifestException} naming the field. */
    public static BackupManifest read(byte[] json) {
        JsonNode root;
        try {
            root = CanonicalJson.parse(json);
        } catch (RuntimeException e) {
            throw new ManifestException("manifest is not valid JSON: " + e.getMessage(), e);
        }
        if (!root.isObject()) {
            throw new ManifestException("manifest must be a JSON object");
        }
        try {
            List<ManifestTablespace> tablespaces = list(root, "tablespaces", (t, at) ->
                    new ManifestTablespace(longField(t, "oid", at), optText(t, "name").orElse(null), text(t, "location", at)));
            List<SafeRelativePath> dirs = list(root, "directories", (d, at) -> path(d, at));
            List<ManifestBundle> bundles = list(root, "bundles", (b, at) ->
                    new ManifestBundle(intField(b, "id", at), longField(b, "storedSize", at), text(b, "storedSha256", at)));
            List<ManifestFile> files = list(root, "files", ManifestJson::file);
            return new BackupManifest(intField(root, "formatVersion", ""),
                    convert(root, "stanza", StanzaName::of),
                    convert(root, "label", BackupLabelName::parse),
                    optText(root, "prior").map(p -> convertText("prior", p, BackupLabelName::parse)),
                    text(root, "systemIdentifier", ""),
                    intField(root, "pgVersionNum", ""),
                    WalSegmentSize.ofBytes(longField(root, "walSegmentSize", "")),
                    TimelineId.of(longField(root, "timeline", "")),
                    convert(root, "startLsn", Lsn::parse),
                    convert(root, "stopLsn", Lsn::parse),
                    convert(root, "startTime", Instant::parse),
                    convert(root, "stopTime", Instant::parse),
                    bool(root, "fromStandby"),
                    bool(root, "dataChecksums"),
                    convert(root, "compression", Compression::fromExtension),
                    text(root, "backupLabel", ""),
                    optText(root, "tablespaceMap"),
                    tablespaces, dirs, bundles, files);
        } catch (ManifestException e) {
            throw e;
        } catch (IllegalArgumentException | DateTimeParseException e) {
            throw new ManifestException("manifest is invalid: " + e.getMessage(), e);
        }
    }

    private static ManifestFile file(JsonNode f, String at) {
        SafeRelativePath path = path(f.get("path"), at + "/path");
        JsonNode bundle = f.get("bundle");
        OptionalInt bundleId = bundle == null || bundle.isNull() ? OptionalInt.empty() : OptionalInt.of(intField(f, "bundle", at));
        List<Long> errors = new ArrayList<>();
        JsonNode errs = f.get("pageChecksumErrors");
        if (errs != null && !errs.isNull()) {
            if (!errs.isArray()) {
                throw new ManifestException(at + "/pageChecksumErrors must be an array");
            }
            errs.forEach(e -> {
                if (!e.canConvertToLong() || !e.isIntegralNumber()) {
                    throw new ManifestException(at + "/pageChecksumErrors must hold block numbers");
                }
                errors.add(e.asLong());
            });
        }
        return new ManifestFile(path, longField(f, "size", at), text(f, "sha256", at),
                convertText(at + "/mtime", text(f, "mtime", at), Instant::parse),
                convertText(at + "/reference", text(f, "reference", at), BackupLabelName::parse),
                bundleId, bundleId.isPresent() ? longField(f, "bundleOffset", at) : 0,
                longField(f, "storedSize", at), text(f, "storedSha256", at), errors, blocks(f.get("blocks"), at + "/blocks"));
    }

    /** A block map's JSON (also kept in the backup's resume record). */
    public static ObjectNode blocksJson(BlockMap map) {
        ObjectNode bo = F.objectNode();
        bo.put("blockSize", map.blockSize());
        // one array per block, [reference, offset, storedSize, sha256]: the map of a 1 GB segment
        // is 1024 of these, so field names per entry would double its size
        ArrayNode entries = bo.putArray("map");
        map.blocks().forEach(b -> entries.addArray().add(b.reference().toString()).add(b.offset())
                .add(b.storedSize()).add(b.sha256()));
        return bo;
    }

    /** Reads {@link #blocksJson}; absent or null is no map. */
    public static Optional<BlockMap> blocks(JsonNode b, String at) {
        if (b == null || b.isNull()) {
            return Optional.empty();
        }
        if (!b.isObject()) {
            throw new ManifestException(at + " must be an object");
        }
        JsonNode map = b.get("map");
        if (map == null || !map.isArray()) {
            throw new ManifestException(at + "/map must be an array");
        }
        List<BlockMap.Block> blocks = new ArrayList<>(map.size());
        for (int i = 0; i < map.size(); i++) {
            JsonNode e = map.get(i);
            String here = at + "/map/" + i;
            if (!e.isArray() || e.size() != 4 || !e.get(0).isTextual() || !e.get(1).isIntegralNumber()
                    || !e.get(2).isIntegralNumber() || !e.get(3).isTextual()) {
                throw new ManifestException(here + " must be [reference, offset, storedSize, sha256]");
            }
            try {
                blocks.add(new BlockMap.Block(convertText(here + "/0", e.get(0).asText(), BackupLabelName::parse),
                        e.get(1).asLong(), e.get(2).asLong(), e.get(3).asText()));
            } catch (ManifestException x) {
                throw new ManifestException(here + ": " + x.getMessage(), x);
            }
        }
        return Optional.of(new BlockMap(intField(b, "blockSize", at), blocks));
    }

    private static SafeRelativePath path(JsonNode n, String at) {
        if (n == null || !n.isTextual()) {
            throw new ManifestException(at + " must be a string path");
        }
        try {
            return SafeRelativePath.of(n.asText());
        } catch (IllegalArgumentException e) {
            throw new ManifestException(at + ": unsafe path: " + e.getMessage(), e);
        }
    }

    private interface Element<T> {
        T read(JsonNode node, String pointer);
    }

    private static <T> List<T> list(JsonNode root, String field, Element<T> element) {
        JsonNode arr = root.get(field);
        if (arr == null || !arr.isArray()) {
            throw new ManifestException("/" + field + " must be an array");
        }
        List<T> out = new ArrayList<>(arr.size());
        for (int i = 0; i < arr.size(); i++) {
            out.add(element.read(arr.get(i), "/" + field + "/" + i));
        }
        return out;
    }

    private static String text(JsonNode o, String field, String at) {
        JsonNode n = o.get(field);
        if (n == null || !n.isTextual()) {
            throw new ManifestException(at + "/" + field + " must be a string");
        }
        return n.asText();
    }

    private static Optional<String> optText(JsonNode o, String field) {
        JsonNode n = o.get(field);
        if (n == null || n.isNull()) {
            return Optional.empty();
        }
        if (!n.isTextual()) {
            throw new ManifestException("/" + field + " must be a string or null");
        }
        return Optional.of(n.asText());
    }

    private static long longField(JsonNode o, String field, String at) {
        JsonNode n = o.get(field);
        if (n == null || !n.isIntegralNumber() || !n.canConvertToLong()) {
            throw new ManifestException(at + "/" + field + " must be an integer");
        }
        return n.asLong();
    }

    private static int intField(JsonNode o, String field, String at) {
        long v = longField(o, field, at);
        if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
            throw new ManifestException(at + "/" + field + " is out of range");
        }
        return (int) v;
    }

    private static boolean bool(JsonNode o, String field) {
        JsonNode n = o.get(field);
        if (n == null || !n.isBoolean()) {
            throw new ManifestException("/" + field + " must be true or false");
        }
        return n.asBoolean();
    }

    private static <T> T convert(JsonNode o, String field, Function<String, T> parser) {
        return convertText("/" + field, text(o, field, ""), parser);
    }

    private static <T> T convertText(String at, String value, Function<String, T> parser) {
        try {
            return parser.apply(value);
        } catch (IllegalArgumentException | DateTimeParseException e) {
            throw new ManifestException(at + ": " + e.getMessage(), e);
        }
    }
}
