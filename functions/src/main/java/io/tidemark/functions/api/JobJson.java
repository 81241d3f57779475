package io.tidemark.functions.api;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tidemark.functions.job.Job;
import java.time.Instant;
import java.util.List;

/**
 * The JSON of backup jobs ({@code /stanzas/{stanza}/jobs...} and {@code jobs[]} of the stanza
 * document): {@code {"jobId", "type", "reason", "state", "createdAt", "deadline", "holder",
 * "claimedAt", "finishedAt", "label", "originalSize", "storedSize", "durationMs", "error",
 * "passedBy": [...]}}, absent values as null. {@code state} is the state as of the answer: a
 * queued job past its deadline shows as missed or skipped-by-replica.
 */
public final class JobJson {

    private JobJson() {
    }

    public static ObjectNode job(Job j, Instant now) {
        ObjectNode n = CatalogJson.MAPPER.createObjectNode();
        n.put("jobId", j.id());
        n.put("type", j.type());
        n.put("reason", j.reason());
        n.put("state", j.stateAt(now).text());
        n.put("createdAt", j.createdAt().toString());
        n.put("deadline", j.deadline().toString());
        n.put("holder", j.holder());
        n.put("claimedAt", j.claimedAt() == null ? null : j.claimedAt().toString());
        n.put("finishedAt", j.finishedAt() == null ? null : j.finishedAt().toString());
        n.put("label", j.label());
        n.put("originalSize", j.originalSize());
        n.put("storedSize", j.storedSize());
        n.put("durationMs", j.durationMs());
        n.put("error", j.error());
        ArrayNode passed = n.putArray("passedBy");
        j.passedBy().forEach(passed::add);
        return n;
    }

    public static ArrayNode jobs(List<Job> jobs, Instant now) {
        ArrayNode a = CatalogJson.MAPPER.createArrayNode();
        jobs.forEach(j -> a.add(job(j, now)));
        return a;
    }

    /** {@code GET /stanzas/{stanza}/jobs}. */
    public static ObjectNode list(List<Job> jobs, Instant now) {
        ObjectNode n = CatalogJson.MAPPER.createObjectNode();
        n.set("jobs", jobs(jobs, now));
        return n;
    }

    /** 409: why, and the job as it is. */
    public static ObjectNode conflict(String message, Job j, Instant now) {
        ObjectNode n = CatalogJson.MAPPER.createObjectNode();
        n.put("message", message);
        n.set("job", job(j, now));
        return n;
    }
}
