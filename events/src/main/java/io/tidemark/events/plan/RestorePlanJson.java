package io.tidemark.events.plan;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tidemark.events.backup.ManifestTablespace;
import io.tidemark.events.layout.BackupLabelName;
import io.tidemark.events.layout.Compression;
import io.tidemark.events.layout.StanzaName;
import io.tidemark.events.paths.SafeRelativePath;
import io.tidemark.events.wal.Lsn;
import io.tidemark.events.wal.TimelineId;
import io.tidemark.events.wal.WalSegmentSize;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * The JSON form of a {@link RestorePlan} (the signed document). Reading validates every field and
 * refuses unsafe paths with a {@link PlanException} that names the field.
 */
public final class RestorePlanJson {
    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    private RestorePlanJson() {
    }

    public static ObjectNode toJson(RestorePlan p) {
        ObjectNode o = F.objectNode();
        o.put("formatVersion", p.formatVersion());
        o.put("planId", p.planId());
        o.put("stanza", p.stanza().toString());
        o.put("systemIdentifier", p.systemIdentifier());
        o.put("pgVersionNum", p.pgVersionNum());
        o.put("walSegmentSize", p.walSegmentSize().bytes());
        o.put("createdAt", p.createdAt().toString());
        o.put("expiresAt", p.expiresAt().toString());
        ObjectNode req = o.putObject("request");
        req.putObject("target").put("type", p.request().target().type()).put("value", p.request().target().value());
        req.put("exclusive", p.request().exclusive());
        req.put("timeline", p.request().timeline().text());
        req.put("action", p.request().action().text());
        o.put("timeline", p.timeline().value());
        ObjectNode b = o.putObject("backup");
        b.put("label", p.backupLabel().toString());
        ArrayNode chain = b.putArray("chain");
        p.chain().forEach(l -> chain.add(l.toString()));
        b.put("startLsn", p.backupStartLsn().toString());
        b.put("stopLsn", p.backupStopLsn().toString());
        b.put("timeline", p.backupTimeline().value());
        b.put("backupLabelFile", p.backupLabelFile());
        p.tablespaceMap().ifPresentOrElse(t -> b.put("tablespaceMap", t), () -> b.putNull("tablespaceMap"));
        ArrayNode ts = o.putArray("tablespaces");
        p.tablespaces().forEach(t -> ts.addObject().put("oid", t.oid()).put("name", t.name()).put("location", t.location()));
        ArrayNode dirs = o.putArray("directories");
        p.directories().forEach(d -> dirs.add(d.path()));
        ArrayNode files = o.putArray("files");
        for (PlanFile f : p.files()) {
            ObjectNode fo = files.addObject().put("path", f.path().path()).put("size", f.size()).put("sha256", f.sha256())
                    .put("backup", f.backup().toString()).put("key", f.key()).put("compression", f.compression().extension())
                    .put("bundled", f.bundled()).put("bundleOffset", f.bundleOffset()).put("storedSize", f.storedSize())
                    .put("storedSha256", f.storedSha256());
            if (f.versionId() != null) {
                fo.put("versionId", f.versionId()); // only with versioning: other plans stay as they were
            }
            f.blocks().ifPresent(pb -> {
                ObjectNode bo = fo.putObject("blocks").put("blockSize", pb.blockSize());
                ArrayNode arr = bo.putArray("map");
                for (PlanBlocks.Block k : pb.blocks()) {
                    ObjectNode ko = arr.addObject().put("backup", k.backup().toString()).put("key", k.key())
                            .put("offset", k.offset()).put("storedSize", k.storedSize()).put("sha256", k.sha256());
                    if (k.versionId() != null) {
                        ko.put("versionId", k.versionId());
                    }
                }
            });
        }
        ArrayNode wal = o.putArray("wal");
        for (PlanWal w : p.wal()) {
            ObjectNode wo = wal.addObject().put("name", w.name()).put("key", w.key())
                    .put("compression", w.compression().extension()).put("sha256", w.sha256()).put("storedSize", w.storedSize());
            if (w.versionId() != null) {
                wo.put("versionId", w.versionId());
            }
            if (w.isAssembled()) {
                // only when there are any: a plan without streamed chunks stays the document it always was
                ArrayNode cs = wo.putArray("chunks");
                for (PlanWalChunk c : w.chunks()) {
                    ObjectNode co = cs.addObject().put("key", c.key()).put("compression", c.compression().extension())
                            .put("start", c.start()).put("end", c.end()).put("sha256", c.sha256())
                            .put("storedSize", c.storedSize());
                    if (c.versionId() != null) {
                        co.put("versionId", c.versionId());
                    }
                }
            }
        }
        ObjectNode settings = o.putObject("recoverySettings");
        new java.util.TreeMap<>(p.recoverySettings()).forEach(settings::put);
        o.put("reachability", p.reachability());
        if (!p.walRanges().isEmpty()) {
            // only when there are any: a plan without them stays the document it always was
            ArrayNode ranges = o.putArray("walRanges");
            p.walRanges().forEach(r -> ranges.addObject().put("first", r.first()).put("last", r.last()));
        }
        return o;
    }

    public static RestorePlan read(JsonNode o) {
        try {
            JsonNode req = field(o, "request");
            JsonNode target = field(req, "target");
            RecoveryRequest request = new RecoveryRequest(
                    RestoreTarget.of(text(target, "type"), target.path("value").isNull() ? null : target.path("value").asText(null)),
                    bool(req, "exclusive"), TimelineTarget.parse(text(req, "timeline")), TargetAction.parse(text(req, "action")));
            JsonNode b = field(o, "backup");
            List<BackupLabelName> chain = new ArrayList<>();
            for (JsonNode l : array(b, "chain")) {
                chain.add(BackupLabelName.parse(l.asText()));
            }
            List<ManifestTablespace> ts = new ArrayList<>();
            for (JsonNode t : array(o, "tablespaces")) {
                ts.add(new ManifestTablespace(num(t, "oid"), t.path("name").asText(null), text(t, "location")));
            }
            List<SafeRelativePath> dirs = new ArrayList<>();
            int i = 0;
            for (JsonNode d : array(o, "directories")) {
                dirs.add(path(d.asText(), "/directories/" + i++));
            }
            List<PlanFile> files = new ArrayList<>();
            i = 0;
            for (JsonNode f : array(o, "files")) {
                String at = "/files/" + i++;
                files.add(new PlanFile(path(text(f, "path"), at + "/path"), num(f, "size"), text(f, "sha256"),
                        BackupLabelName.parse(text(f, "backup")), text(f, "key"), Compression.fromExtension(text(f, "compression")),
                        bool(f, "bundled"), num(f, "bundleOffset"), num(f, "storedSize"), text(f, "storedSha256"),
                        f.has("versionId") ? text(f, "versionId") : null, blocks(f, at)));
            }
            List<PlanWal> wal = new ArrayList<>();
            for (JsonNode w : array(o, "wal")) {
                List<PlanWalChunk> chunks = new ArrayList<>();
                if (w.has("chunks")) {
                    for (JsonNode c : array(w, "chunks")) {
                        chunks.add(new PlanWalChunk(text(c, "key"), c.has("versionId") ? text(c, "versionId") : null,
                                Compression.fromExtension(text(c, "compression")), num(c, "start"), num(c, "end"),
                                text(c, "sha256"), num(c, "storedSize")));
                    }
                }
                wal.add(new PlanWal(text(w, "name"), text(w, "key"), Compression.fromExtension(text(w, "compression")),
                        text(w, "sha256"), num(w, "storedSize"), w.has("versionId") ? text(w, "versionId") : null, chunks));
            }
            List<PlanWalRange> ranges = new ArrayList<>();
            if (o.has("walRanges")) {
                for (JsonNode r : array(o, "walRanges")) {
                    ranges.add(new PlanWalRange(text(r, "first"), text(r, "last")));
                }
            }
            Map<String, String> settings = new LinkedHashMap<>();
            field(o, "recoverySettings").fields().forEachRemaining(e -> settings.put(e.getKey(), e.getValue().asText()));
            JsonNode tsMap = b.get("tablespaceMap");
            return new RestorePlan((int) num(o, "formatVersion"), text(o, "planId"), StanzaName.of(text(o, "stanza")),
                    text(o, "systemIdentifier"), (int) num(o, "pgVersionNum"), WalSegmentSize.ofBytes(num(o, "walSegmentSize")),
                    convert(o, "createdAt", Instant::parse), convert(o, "expiresAt", Instant::parse), request,
                    TimelineId.of(num(o, "timeline")), BackupLabelName.parse(text(b, "label")), chain,
                    Lsn.parse(text(b, "startLsn")), Lsn.parse(text(b, "stopLsn")), TimelineId.of(num(b, "timeline")),
                    text(b, "backupLabelFile"), tsMap == null || tsMap.isNull() ? Optional.empty() : Optional.of(tsMap.asText()),
                    ts, dirs, files, wal, settings, o.path("reachability").asText(""), ranges);
        } catch (PlanException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new PlanException("restore plan is invalid: " + e.getMessage(), e);
        }
    }

    private static java.util.Optional<PlanBlocks> blocks(JsonNode f, String at) {
        JsonNode b = f.get("blocks");
        if (b == null || b.isNull()) {
            return java.util.Optional.empty();
        }
        List<PlanBlocks.Block> blocks = new ArrayList<>();
        for (JsonNode k : array(b, "map")) {
            blocks.add(new PlanBlocks.Block(BackupLabelName.parse(text(k, "backup")), text(k, "key"),
                    k.has("versionId") ? text(k, "versionId") : null, num(k, "offset"), num(k, "storedSize"), text(k, "sha256")));
        }
        return java.util.Optional.of(new PlanBlocks((int) num(b, "blockSize"), blocks));
    }

    private static SafeRelativePath path(String p, String at) {
        try {
            return SafeRelativePath.of(p);
        } catch (IllegalArgumentException e) {
            throw new PlanException(at + ": unsafe path refused: " + e.getMessage(), e);
        }
    }

    private static JsonNode field(JsonNode o, String name) {
        JsonNode n = o.get(name);
        if (n == null || n.isNull()) {
            throw new PlanException("restore plan lacks '" + name + "'");
        }
        return n;
    }

    private static Iterable<JsonNode> array(JsonNode o, String name) {
        JsonNode n = field(o, name);
        if (!n.isArray()) {
            throw new PlanException("'" + name + "' must be an array");
        }
        return n;
    }

    private static String text(JsonNode o, String name) {
        JsonNode n = field(o, name);
        if (!n.isTextual()) {
            throw new PlanException("'" + name + "' must be a string");
        }
        return n.asText();
    }

    private static long num(JsonNode o, String name) {
        JsonNode n = field(o, name);
        if (!n.isIntegralNumber()) {
            throw new PlanException("'" + name + "' must be an integer");
        }
        return n.asLong();
    }

    private static boolean bool(JsonNode o, String name) {
        JsonNode n = field(o, name);
        if (!n.isBoolean()) {
            throw new PlanException("'" + name + "' must be true or false");
        }
        return n.asBoolean();
    }

    private static <T> T convert(JsonNode o, String name, Function<String, T> parse) {
        return parse.apply(text(o, name));
    }
}
