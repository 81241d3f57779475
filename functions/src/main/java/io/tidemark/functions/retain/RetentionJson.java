package io.tidemark.functions.retain;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tidemark.events.json.Json;
import io.tidemark.events.wal.WalSegmentName;
import io.tidemark.functions.retain.RetentionPlan.BackupDeletion;
import io.tidemark.functions.retain.RetentionPlan.Deletion;
import io.tidemark.functions.retain.RetentionPlan.OrphanDeletion;
import io.tidemark.functions.retain.RetentionPlan.WalDeletion;
import io.tidemark.functions.window.WindowJson;

/**
 * The answer of the retention function and of {@code POST /stanzas/{stanza}/expire}: the policy,
 * every deletion in order with its size, what is kept and why, and the window before and after.
 */
public final class RetentionJson {

    private static final ObjectMapper MAPPER = Json.mapper();

    private RetentionJson() {
    }

    public static ObjectNode result(RetentionService.Result r) {
        RetentionPlan plan = r.plan();
        ObjectNode n = MAPPER.createObjectNode();
        n.put("stanza", r.stanza());
        n.put("dryRun", r.dryRun());
        n.put("now", plan.now().toString());
        ObjectNode p = n.putObject("policy");
        p.put("fullType", plan.policy().full().type());
        p.put("full", plan.policy().full().value());
        p.put("diff", plan.policy().diff());
        ArrayNode ds = n.putArray("deletions");
        long total = 0;
        for (Deletion d : plan.deletions()) {
            ObjectNode o = ds.addObject();
            long bytes = r.bytes().getOrDefault(d, 0L);
            total += bytes;
            switch (d) {
                case BackupDeletion b -> {
                    o.put("kind", "backup");
                    o.put("label", b.label().toString());
                    o.put("status", b.status());
                    o.put("reason", b.reason());
                }
                case OrphanDeletion b -> {
                    o.put("kind", "orphan");
                    o.put("label", b.label().toString());
                    o.put("objects", b.objects());
                    o.put("reason", b.reason());
                }
                case WalDeletion w -> {
                    o.put("kind", "wal");
                    o.put("timeline", w.timeline().value());
                    o.put("from", WalSegmentName.of(w.timeline(), w.from(), r.segmentSize()).toString());
                    o.put("through", WalSegmentName.of(w.timeline(), w.through(), r.segmentSize()).toString());
                    o.put("segments", w.segments());
                    o.put("reason", w.reason());
                }
            }
            o.put("bytes", bytes);
        }
        n.put("bytes", total);
        ArrayNode kept = n.putArray("kept");
        for (RetentionPlan.Kept k : plan.kept()) {
            kept.addObject().put("label", k.label()).put("reason", k.reason());
        }
        ArrayNode held = n.putArray("heldBack");
        plan.heldBack().forEach(held::add);
        ArrayNode notes = n.putArray("notes");
        plan.notes().forEach(notes::add);
        n.set("windowBefore", WindowJson.window(plan.windowBefore()));
        n.set("windowAfter", WindowJson.window(plan.windowAfter()));
        if (!r.dryRun()) {
            n.put("objectsDeleted", r.objectsDeleted());
            n.put("itemsDeleted", r.itemsDeleted());
        }
        return n;
    }
}
