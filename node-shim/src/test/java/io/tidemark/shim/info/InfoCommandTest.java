package io.tidemark.shim.info;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tidemark.shim.cli.ExitCodes;
import io.tidemark.shim.support.FakeCatalog;
import io.tidemark.shim.support.Shim;
import io.tidemark.shim.support.TestCloud;
import io.tidemark.testkit.PgCluster;
import io.tidemark.testkit.PgTest;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class InfoCommandTest {
    static final Clock NOW = Clock.fixed(Instant.parse("2026-03-01T12:00:30Z"), ZoneOffset.UTC);

    @TempDir
    Path dir;

    static ObjectNode withTimelines(String stanza, String sysid) {
        ObjectNode d = FakeCatalog.document(stanza, sysid, 150018, 16 << 20);
        ArrayNode tls = d.putArray("timelines");
        ObjectNode t1 = tls.addObject();
        t1.put("timeline", 1).putNull("parent");
        t1.putNull("switchPoint");
        t1.putArray("walRanges").addObject().put("start", "000000010000000000000001").put("end", "000000010000000000000003");
        t1.withArray("walRanges").addObject().put("start", "000000010000000000000006").put("end", "000000010000000000000007");
        t1.putArray("gaps").addObject().put("start", "000000010000000000000004").put("end", "000000010000000000000005");
        t1.put("segments", 5).put("lastSegment", "000000010000000000000007")
                .put("lastCommitTime", "2026-03-01T11:59:00Z").put("lastArchivedAt", "2026-03-01T11:59:30Z")
                .put("endLsn", "0/8000000");
        ObjectNode t2 = tls.addObject();
        t2.put("timeline", 2).put("parent", 1).put("switchPoint", "0/7800000");
        t2.putArray("walRanges").addObject().put("start", "000000020000000000000007").put("end", "000000020000000000000009");
        t2.putArray("gaps");
        t2.put("segments", 3).put("lastSegment", "000000020000000000000009").putNull("lastCommitTime");
        t2.put("lastArchivedAt", "2026-03-01T12:00:00Z").put("endLsn", "0/A000000");
        d.putArray("partials").add("000000010000000000000007.partial");
        d.putArray("histories").add(2);
        return d;
    }

    private Path config(String stanza) {
        return TestCloud.config(TestCloud.cloud(), dir, Map.of("stanza", stanza));
    }

    @Test
    @Tag("localcloud")
    void jsonIsTheDocumentPlusLag() throws IOException {
        TestCloud.catalog().put("info1", withTimelines("info1", "77"));
        Shim.Run r = Shim.run(new InfoCommand(Map.of(), NOW), "--config", config("info1").toString(), "--output", "json",
                "--pg-port", "1");
        assertEquals(0, r.code(), r.err());
        JsonNode j = new ObjectMapper().readTree(r.out());
        assertEquals("info1", j.path("stanza").asText());
        assertEquals(2, j.path("timelines").size());
        assertEquals("000000010000000000000004", j.path("timelines").get(0).path("gaps").get(0).path("start").asText());
        assertEquals(30, j.path("archiveLag").path("seconds").asLong());
        assertTrue(j.path("archiveLag").path("bytes").isNull());
    }

    @Test
    @Tag("localcloud")
    void textShowsTimelinesAndShoutsGaps() {
        TestCloud.catalog().put("info2", withTimelines("info2", "77"));
        Shim.Run r = Shim.run(new InfoCommand(Map.of(), NOW), "--config", config("info2").toString(), "--pg-port", "1");
        assertEquals(0, r.code(), r.err());
        String out = r.out();
        assertTrue(out.contains("timeline 1\n"), out);
        assertTrue(out.contains("timeline 2 (branched from timeline 1 at 0/7800000)"), out);
        assertTrue(out.contains("archived           000000010000000000000001 .. 000000010000000000000003"), out);
        assertTrue(out.contains("!!! GAP !!!        000000010000000000000004 .. 000000010000000000000005 MISSING"), out);
        assertTrue(out.contains("WARNING: 1 gap in the WAL archive"), out);
        assertTrue(out.contains("000000010000000000000007.partial"), out);
        assertTrue(out.contains("archive lag        30 s since the last archived segment, bytes unknown"
                + " (PostgreSQL not reachable at 127.0.0.1:1 as"), out);
    }

    @Test
    @Tag("localcloud")
    void unknownStanzaIsExitOne() {
        Shim.Run r = Shim.run(new InfoCommand(Map.of(), NOW), "--config", config("nosuch").toString());
        assertEquals(ExitCodes.FAILED, r.code());
        assertTrue(r.err().contains("stanza nosuch does not exist"), r.err());
    }

    @Test
    @PgTest
    void bytesComeFromTheRunningCluster() throws IOException {
        try (PgCluster pg = PgCluster.builder().build().start()) {
            String sysid = Long.toUnsignedString(pg.systemIdentifier());
            TestCloud.catalog().put("info3", withTimelines("info3", sysid));
            Shim.Run r = Shim.run(new InfoCommand(Map.of(), NOW), "--config", config("info3").toString(), "--output", "json",
                    "--pg-port", String.valueOf(pg.port()), "--pg-user", "postgres");
            assertEquals(0, r.code(), r.err());
            long current = io.tidemark.events.wal.Lsn.parse(pg.currentWalInsertLsn()).value();
            long bytes = new ObjectMapper().readTree(r.out()).path("archiveLag").path("bytes").asLong(-1);
            long expected = Math.max(0, current - 0xA000000L);
            assertTrue(bytes >= 0 && Math.abs(bytes - expected) < 1 << 20, bytes + " vs " + expected);
            // a cluster that is not the stanza's gives no byte figure
            TestCloud.catalog().put("info4", withTimelines("info4", "77"));
            Shim.Run other = Shim.run(new InfoCommand(Map.of(), NOW), "--config", config("info4").toString(),
                    "--pg-port", String.valueOf(pg.port()), "--pg-user", "postgres");
            assertTrue(other.out().contains("is system " + sysid + ", not this stanza's 77"), other.out());
        }
    }
}
