package io.tidemark.functions.job;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;

/**
 * The message a node receives for a job: {@code {"jobId", "stanza", "type", "deadline"}}. It
 * carries no authority: the node claims the job in the catalog before it acts on it.
 */
public final class JobMessage {

    private JobMessage() {
    }

    public static String of(Job job) {
        return JsonNodeFactory.instance.objectNode()
                .put("jobId", job.id())
                .put("stanza", job.stanza())
                .put("type", job.type())
                .put("deadline", job.deadline().toString())
                .toString();
    }
}
