package io.tidemark.shim.verify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("unit")
class VerifyTextTest {

    static JsonNode run(String json) throws Exception {
        return new ObjectMapper().readTree(json);
    }

    static String text(JsonNode run) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        VerifyText.print(run, new PrintStream(b, true, StandardCharsets.UTF_8));
        return b.toString(StandardCharsets.UTF_8);
    }

    @Test
    void eachProblemShowsKeyExpectedAndFoundAndWhatWasLeftOut() throws Exception {
        String out = text(run("""
                {"id": "20261206T040000Z-0a0b0c0d", "stanza": "main", "state": "complete", "clean": false,
                 "createdAt": "2026-12-06T04:00:00Z", "finishedAt": "2026-12-06T04:01:00Z", "objects": 12,
                 "checked": 12, "bytes": 4096, "batches": 2, "problemCount": 3, "problems": [
                  {"key": "main/wal/0000000100000000/000000010000000000000006.zst", "check": "size",
                   "expected": "18739 bytes", "found": "9369 bytes"},
                  {"key": "000000010000000000000006", "check": "gap", "expected": "contiguous WAL",
                   "found": "segment 000000010000000000000006 absent or damaged"}]}"""));
        assertTrue(out.startsWith("verify 20261206T040000Z-0a0b0c0d of stanza main (every object): complete\n"), out);
        assertTrue(out.contains("  checked            12 of 12 objects, 4096 stored bytes read, in 2 batches\n"), out);
        assertTrue(out.contains("\n3 problems\n"
                + "  main/wal/0000000100000000/000000010000000000000006.zst\n"
                + "      size: expected 18739 bytes\n"
                + "            found    9369 bytes\n"), out);
        assertTrue(out.contains("  ... and 1 more"), out);
    }

    @Test
    void aCleanRunSaysSo() throws Exception {
        String out = text(run("""
                {"id": "x", "stanza": "main", "backup": "20261206-010000F", "state": "complete", "clean": true,
                 "objects": 5, "checked": 5, "problemCount": 0, "problems": []}"""));
        assertTrue(out.contains("(backup 20261206-010000F and its chain): complete"), out);
        assertTrue(out.contains("no problems"), out);
    }

    @Test
    void progressLinesAreThrottledOffATerminalAndRedrawnOnOne() throws Exception {
        JsonNode running = run("""
                {"id": "r", "state": "running", "objects": 1000, "checked": 250, "batches": 4, "batchesDone": 1,
                 "problemCount": 2}""");
        assertEquals("250 of 1000 objects checked (25%), batch 1 of 4, 2 problems so far",
                VerifyProgress.summary(running));
        assertEquals("listing the objects to check", VerifyProgress.summary(run("{\"state\": \"planning\"}")));

        ByteArrayOutputStream plain = new ByteArrayOutputStream();
        VerifyProgress p = new VerifyProgress(new PrintStream(plain, true, StandardCharsets.UTF_8), false);
        p.show(running);
        p.show(running);
        p.end();
        assertEquals("verify r: 250 of 1000 objects checked (25%), batch 1 of 4, 2 problems so far\n",
                plain.toString(StandardCharsets.UTF_8));

        ByteArrayOutputStream tty = new ByteArrayOutputStream();
        VerifyProgress t = new VerifyProgress(new PrintStream(tty, true, StandardCharsets.UTF_8), true);
        t.show(running);
        t.show(running);
        t.end();
        String drawn = tty.toString(StandardCharsets.UTF_8);
        assertEquals(2, drawn.split("\r", -1).length - 1, drawn);
        assertTrue(drawn.startsWith("\r[######..................]  25% verify r: 250 of 1000"), drawn);
        assertTrue(drawn.endsWith("\n"), drawn);
    }
}
