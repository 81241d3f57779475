package io.tidemark.functions.verify;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tidemark.events.json.Json;
import io.tidemark.functions.catalog.Item;
import java.util.List;

/**
 * The JSON of a run (API answers, the function's output) and of the stanza's last verify (in
 * {@code GET /stanzas/{stanza}}).
 */
public final class VerifyJson {

    private static final ObjectMapper MAPPER = Json.mapper();

    private VerifyJson() {
    }

    /** A run, with its first problems ({@code problemsListed} of {@code problems}). */
    public static ObjectNode run(VerifyRun r, List<VerifyProblem> problems) {
        ObjectNode n = MAPPER.createObjectNode();
        n.put("id", r.id());
        n.put("stanza", r.stanza().value());
        if (r.backup() != null) {
            n.put("backup", r.backup());
        }
        n.put("state", r.state().label());
        n.put("clean", r.clean());
        n.put("createdAt", r.createdAt().toString());
        n.put("updatedAt", r.updatedAt().toString());
        if (r.finishedAt() != null) {
            n.put("finishedAt", r.finishedAt().toString());
        }
        n.put("batches", r.batches());
        n.put("batchesDone", r.doneBatches().size());
        n.put("objects", r.objects());
        n.put("checked", r.checked());
        n.put("bytes", r.bytes());
        n.put("problemCount", r.problems());
        if (r.message() != null) {
            n.put("message", r.message());
        }
        ArrayNode list = n.putArray("problems");
        for (VerifyProblem p : problems) {
            list.addObject().put("key", p.key()).put("check", p.check().label()).put("expected", p.expected())
                    .put("found", p.found());
        }
        n.put("problemsListed", problems.size());
        return n;
    }

    /** The {@code verify} member of the stanza document: the newest finished run and the last clean one. */
    public static ObjectNode last(Item item) {
        ObjectNode n = MAPPER.createObjectNode();
        n.put("run", item.string("run").orElse(null));
        String backup = item.string("backup").orElse("");
        if (!backup.isEmpty()) {
            n.put("backup", backup);
        }
        n.put("state", item.string("state").orElse(null));
        n.put("finishedAt", item.string("finishedAt").orElse(null));
        n.put("problems", item.number("problems").orElse(0L));
        n.put("checked", item.number("checked").orElse(0L));
        item.string("lastCleanAt").ifPresent(t -> n.put("lastCleanAt", t));
        item.string("lastCleanRun").ifPresent(t -> n.put("lastCleanRun", t));
        return n;
    }
}
