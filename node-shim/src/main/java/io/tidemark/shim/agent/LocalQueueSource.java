package io.tidemark.shim.agent;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tidemark.events.json.Json;
import io.tidemark.events.layout.StanzaName;
import io.tidemark.shim.api.ApiException;
import io.tidemark.shim.api.CatalogApi;
import java.io.IOException;
import java.time.Duration;
import java.util.Optional;

/**
 * local-cloud's job queue of the stanza, through the local API's {@code /stanzas/{stanza}/job-queue/*}
 * routes (the local stand-in for SQS; API Gateway in AWS has no such routes).
 */
public record LocalQueueSource(CatalogApi api, StanzaName stanza) implements JobSource {

    private static final ObjectMapper MAPPER = Json.mapper();

    @Override
    public Optional<ReceivedJob> receive(Duration wait, Duration visibility) {
        CatalogApi.Response r = api.localJobQueue(stanza, "receive", "{\"waitSeconds\":" + wait.toSeconds()
                + ",\"visibilitySeconds\":" + visibility.toSeconds() + "}", (int) wait.plusSeconds(30).toMillis());
        if (r.status() == 404 || r.status() == 403) {
            throw new ApiException(r.status(), "the catalog API has no local job queue (HTTP " + r.status() + ": "
                    + r.message() + "): in AWS, give --queue-url with the stanza's SQS queue URL (stack output JobQueueUrl-"
                    + stanza + ")", null);
        }
        if (r.status() != 200) {
            throw new ApiException(r.status(), "receiving a job: HTTP " + r.status() + ": " + r.message(), null);
        }
        try {
            JsonNode messages = MAPPER.readTree(r.body()).path("messages");
            if (messages.isEmpty()) {
                return Optional.empty();
            }
            JsonNode m = messages.get(0);
            return Optional.of(new ReceivedJob(m.path("messageId").asText(), m.path("receiptHandle").asText(),
                    m.path("receiveCount").asInt(), m.path("body").asText()));
        } catch (IOException e) {
            throw new ApiException(r.status(), "receiving a job: the answer is not JSON: " + e.getMessage(), e);
        }
    }

    @Override
    public void changeVisibility(ReceivedJob job, Duration visibility) {
        expect(api.localJobQueue(stanza, "visibility", "{\"receiptHandle\":\"" + job.receiptHandle()
                + "\",\"visibilitySeconds\":" + visibility.toSeconds() + "}", 30_000), "changing its visibility");
    }

    @Override
    public void delete(ReceivedJob job) {
        expect(api.localJobQueue(stanza, "delete", "{\"receiptHandle\":\"" + job.receiptHandle() + "\"}", 30_000),
                "deleting it");
    }

    private static void expect(CatalogApi.Response r, String what) {
        // 410: received again by someone else since; nothing of ours to change any more.
        if (r.status() != 200 && r.status() != 410) {
            throw new ApiException(r.status(), "job message: " + what + ": HTTP " + r.status() + ": " + r.message(), null);
        }
    }

    @Override
    public String describe() {
        return "the local cloud's job queue of stanza " + stanza;
    }
}
