package io.tidemark.functions.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.tidemark.functions.CloudFixture;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The backup scheduler as local-cloud runs it: a schedule from {@code DIR/schedules.json} invokes
 * the real handler with the input JSON the CDK stack gives EventBridge Scheduler; the job lands in
 * DynamoDB Local and in the local queue; nodes receive, pass, claim and report through the real API.
 */
@Tag("localcloud")
class BackupSchedulerLocalCloudTest {

    @TempDir
    static Path dir;
    static CloudFixture f;

    @BeforeAll
    static void start() throws Exception {
        // The target input TidemarkStack renders for a schedule without an explicit type.
        Files.writeString(dir.resolve("schedules.json"), """
                {"schedules": [
                  {"name": "main-backup", "function": "backup-scheduler", "every": "1d",
                   "input": {"stanza": "main", "fullIntervalDays": 7, "deadlineMinutes": 60}},
                  {"name": "typo", "function": "backup-scheduler", "every": "1d",
                   "input": {"stanza": "main", "type": "weekly"}}
                ]}""");
        f = new CloudFixture(dir);
    }

    @AfterAll
    static void stop() {
        if (f != null) {
            f.close();
        }
    }

    @Test
    void aScheduleRunRecordsOneJobThatOneNodeRuns() throws Exception {
        ExecutionException noStanza = assertThrows(ExecutionException.class, () -> f.cloud.runSchedule("main-backup"));
        assertTrue(noStanza.getCause().getMessage().contains("no stanza 'main'"), noStanza.getCause().getMessage());
        ExecutionException badInput = assertThrows(ExecutionException.class, () -> f.cloud.runSchedule("typo"));
        assertTrue(badInput.getCause().getMessage().contains("type must be full, diff, incr or drill"),
                badInput.getCause().getMessage());

        assertEquals(200, f.call("PUT", "/stanzas/main", CloudFixture.stanzaBody("7300000000000000001", 16777216))
                .status());
        JsonNode out = CloudFixture.MAPPER.readTree(f.cloud.runSchedule("main-backup"));
        assertEquals("full", out.get("type").asText());
        assertEquals("no valid full backup exists", out.get("reason").asText());
        String jobId = out.get("jobId").asText();

        CloudFixture.Answer list = f.call("GET", "/stanzas/main/jobs", null);
        assertEquals(200, list.status(), String.valueOf(list.json()));
        assertEquals(jobId, list.json().get("jobs").get(0).get("jobId").asText());
        assertEquals("queued", list.json().get("jobs").get(0).get("state").asText());

        // A replica receives it first, records that it passed, and makes it visible again.
        CloudFixture.Answer r1 = f.call("POST", "/stanzas/main/job-queue/receive", "{\"waitSeconds\":1}");
        assertEquals(200, r1.status(), String.valueOf(r1.json()));
        JsonNode m1 = r1.json().get("messages").get(0);
        JsonNode body = CloudFixture.MAPPER.readTree(m1.get("body").asText());
        assertEquals(jobId, body.get("jobId").asText());
        assertEquals("full", body.get("type").asText());
        assertEquals(200, f.call("POST", "/stanzas/main/jobs/" + jobId + "/pass", "{\"holder\":\"replica:2\"}").status());
        assertEquals(200, f.call("POST", "/stanzas/main/job-queue/visibility", "{\"receiptHandle\":\""
                + m1.get("receiptHandle").asText() + "\",\"visibilitySeconds\":0}").status());

        // The primary receives it (again: at-least-once) and claims; a second claim loses.
        JsonNode m2 = f.call("POST", "/stanzas/main/job-queue/receive", "{\"waitSeconds\":1}").json().get("messages").get(0);
        assertEquals(2, m2.get("receiveCount").asInt());
        CloudFixture.Answer claimed = f.call("POST", "/stanzas/main/jobs/" + jobId + "/claim", "{\"holder\":\"primary:1\"}");
        assertEquals(200, claimed.status(), String.valueOf(claimed.json()));
        assertEquals("running", claimed.json().get("state").asText());
        CloudFixture.Answer lost = f.call("POST", "/stanzas/main/jobs/" + jobId + "/claim", "{\"holder\":\"other:3\"}");
        assertEquals(409, lost.status());
        assertEquals("primary:1", lost.json().get("job").get("holder").asText());
        // The old receipt handle is no longer current.
        assertEquals(410, f.call("POST", "/stanzas/main/job-queue/delete", "{\"receiptHandle\":\""
                + m1.get("receiptHandle").asText() + "\"}").status());
        assertEquals(200, f.call("POST", "/stanzas/main/job-queue/delete", "{\"receiptHandle\":\""
                + m2.get("receiptHandle").asText() + "\"}").status());
        assertEquals(0, f.call("POST", "/stanzas/main/job-queue/receive", "{\"waitSeconds\":0}").json()
                .get("messages").size());

        CloudFixture.Answer reported = f.call("POST", "/stanzas/main/jobs/" + jobId + "/report",
                "{\"holder\":\"primary:1\",\"result\":\"done\",\"label\":\"20260510-010000F\",\"storedSize\":5,"
                        + "\"originalSize\":9,\"durationMs\":700}");
        assertEquals(200, reported.status(), String.valueOf(reported.json()));
        JsonNode job = f.call("GET", "/stanzas/main", null).json().get("jobs").get(0);
        assertEquals("done", job.get("state").asText());
        assertEquals("20260510-010000F", job.get("label").asText());
        assertEquals("replica:2", job.get("passedBy").get(0).asText());
        assertEquals("primary:1", job.get("holder").asText());

        CloudFixture.Answer badReport = f.call("POST", "/stanzas/main/jobs/" + jobId + "/report", "{\"holder\":\"x:1\"}");
        assertEquals(400, badReport.status());
        assertEquals("result must be \"done\" or \"failed\"", badReport.json().get("message").asText());
    }
}
