package io.tidemark.shim.walsummary;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tidemark.shim.Main;
import io.tidemark.testkit.wal.SyntheticWal;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@Tag("unit")
class WalSummaryCommandTest {
    private static final long T0 = 1_790_000_000_000_000L;

    @TempDir
    Path dir;

    record Run(int code, String out, String err) {
    }

    static Run run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Main.run(List.of(args), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    private Path segmentFile() throws IOException {
        SyntheticWal w = SyntheticWal.pg15OneMb();
        w.commit(100, T0);
        w.abort(101, T0 + 1);
        w.commitPrepared(102, T0 + 2, 1, 1);
        w.restorePoint("nightly", T0 + 3);
        w.commit(103, T0 + 4);
        w.switchSegment();
        Path f = dir.resolve(w.segmentName(0));
        Files.write(f, w.segment(0));
        return f;
    }

    @Test
    void jsonHasTheDocumentedFields() throws IOException {
        Run r = run("wal-summary", segmentFile().toString(), "--output", "json");
        assertEquals(0, r.code(), r.err());
        JsonNode j = new ObjectMapper().readTree(r.out());
        assertEquals(1, j.get("timeline").asInt());
        assertEquals("000000010000000000000005", j.get("segment").asText());
        assertEquals(6, j.get("records").asInt());
        assertEquals(3, j.get("commits").asInt());
        assertEquals(1, j.get("aborts").asInt());
        assertEquals("2026-09-21T14:13:20Z", j.get("firstCommitTime").asText());
        assertEquals("2026-09-21T14:13:20.000004Z", j.get("lastCommitTime").asText());
        assertEquals("nightly", j.get("restorePoints").get(0).get("name").asText());
        assertEquals("2026-09-21T14:13:20.000003Z", j.get("restorePoints").get(0).get("time").asText());
        assertTrue(j.get("restorePoints").get(0).get("lsn").asText().matches("[0-9A-F]+/[0-9A-F]+"));
        assertEquals("switch", j.get("stopReason").asText());
        assertTrue(j.has("endLsn"));
        assertTrue(!j.has("transactions"));
    }

    @Test
    void transactionsOnRequest() throws IOException {
        Run r = run("wal-summary", segmentFile().toString(), "--output=json", "--transactions");
        JsonNode tx = new ObjectMapper().readTree(r.out()).get("transactions");
        assertEquals(4, tx.size());
        assertEquals("commit_prepared", tx.get(2).get("kind").asText());
        assertEquals(102, tx.get(2).get("xid").asLong());
    }

    @Test
    void textOutputNamesTheSegmentAndCounts() throws IOException {
        Run r = run("wal-summary", segmentFile().toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("000000010000000000000005"), r.out());
        assertTrue(r.out().matches("(?s).*commits\\s+3.*"), r.out());
        assertTrue(r.out().contains("nightly"), r.out());
    }

    @Test
    void refusalsAreOneLineAndNonZero() throws IOException {
        Path seg = segmentFile();
        Path notWal = dir.resolve("notes.txt");
        Files.writeString(notWal, "hello, this is not WAL at all".repeat(100));
        Path truncated = dir.resolve("000000010000000000000005.cut");
        Files.write(truncated, Arrays.copyOf(Files.readAllBytes(seg), 500_000));
        Path zst = dir.resolve("seg.zst");
        byte[] zstd = new byte[4096];
        zstd[0] = 0x28;
        zstd[1] = (byte) 0xB5;
        zstd[2] = 0x2F;
        zstd[3] = (byte) 0xFD;
        Files.write(zst, zstd);
        Path renamed = dir.resolve("000000010000000000000009");
        Files.copy(seg, renamed);

        assertRefused(run("wal-summary", notWal.toString()), "not a WAL segment");
        assertRefused(run("wal-summary", truncated.toString()), "truncated");
        assertRefused(run("wal-summary", zst.toString()), "zstd-compressed");
        assertRefused(run("wal-summary", dir.resolve("missing").toString()), "no such file");
        assertRefused(run("wal-summary", renamed.toString()), "named");
        assertRefused(run("wal-summary", dir.toString()), "directory");
        Run usage = run("wal-summary");
        assertEquals(2, usage.code());
        Run badOutput = run("wal-summary", seg.toString(), "--output", "yaml");
        assertEquals(2, badOutput.code());
        assertTrue(badOutput.err().contains("text or json"));
    }

    private static void assertRefused(Run r, String why) {
        assertEquals(1, r.code(), r.err());
        assertEquals("", r.out());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().contains(why), r.err());
    }
}
