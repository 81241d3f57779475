package io.tidemark.functions.aws;

import com.fasterxml.jackson.databind.JsonNode;
import io.tidemark.events.json.Json;
import io.tidemark.functions.job.Job;
import io.tidemark.functions.job.JobDelivery;
import io.tidemark.functions.job.JobMessage;
import java.io.IOException;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.MessageAttributeValue;

/**
 * {@link JobDelivery} on SQS: one queue per stanza (the CDK stack creates them and passes
 * {@code TIDEMARK_JOB_QUEUES = {"<stanza>": "<queue url>"}}). The node agents of the stanza
 * receive from it with their own credentials; a replica makes a message visible again for the
 * primary; the claim in the catalog, not the queue, decides who runs the job.
 */
public final class SqsJobDelivery implements JobDelivery {

    private final SqsClient sqs;
    private final Map<String, String> queues;

    public SqsJobDelivery(SqsClient sqs, Map<String, String> queues) {
        this.sqs = sqs;
        this.queues = Map.copyOf(queues);
    }

    /**
     * Parses {@code TIDEMARK_JOB_QUEUES}.
     *
     * @throws IllegalArgumentException when it is not a JSON object of strings
     */
    public static Map<String, String> parseQueues(String json) {
        if (json == null || json.isBlank()) {
            throw new IllegalArgumentException("TIDEMARK_JOB_QUEUES is not set: the scheduler needs each stanza's job"
                    + " queue URL as JSON {\"<stanza>\": \"<queue url>\"}");
        }
        JsonNode n;
        try {
            n = Json.mapper().readTree(json);
        } catch (IOException e) {
            throw new IllegalArgumentException("TIDEMARK_JOB_QUEUES is not JSON: " + e.getMessage());
        }
        if (n == null || !n.isObject()) {
            throw new IllegalArgumentException("TIDEMARK_JOB_QUEUES must be a JSON object {\"<stanza>\": \"<queue url>\"}");
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getValue().isTextual()) {
                throw new IllegalArgumentException("TIDEMARK_JOB_QUEUES: the queue of stanza " + e.getKey()
                        + " must be a URL string");
            }
            out.put(e.getKey(), e.getValue().asText());
        }
        return out;
    }

    @Override
    public void deliver(Job job) {
        String url = queues.get(job.stanza());
        if (url == null) {
            throw new JobDeliveryException("stanza " + job.stanza() + " has no job queue (TIDEMARK_JOB_QUEUES names "
                    + queues.keySet() + "); add the stanza to the CDK configuration", null);
        }
        try {
            sqs.sendMessage(b -> b.queueUrl(url).messageBody(JobMessage.of(job))
                    .messageAttributes(Map.of("jobId", MessageAttributeValue.builder().dataType("String")
                            .stringValue(job.id()).build())));
        } catch (SdkException e) {
            throw new JobDeliveryException("cannot send job " + job.id() + " to " + url + ": " + e.getMessage(), e);
        }
    }
}
