package io.tidemark.shim.restore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tidemark.events.layout.StanzaName;
import io.tidemark.events.plan.PlanWal;
import io.tidemark.events.plan.RestorePlan;
import io.tidemark.events.wal.Lsn;
import io.tidemark.events.wal.WalSegmentName;
import io.tidemark.events.wal.WalSegmentSize;
import io.tidemark.localcloud.LocalCloud;
import io.tidemark.shim.archivepush.ArchivePushCommand;
import io.tidemark.shim.info.InfoCommand;
import io.tidemark.shim.stream.StreamSettings;
import io.tidemark.shim.support.Shim;
import io.tidemark.testkit.PgCluster;
import io.tidemark.testkit.PgTest;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 17 end to end below e2e: the agent's real {@code WalStreamer} streams a real PostgreSQL 15
 * primary into the real local cloud under the stack's IAM, whose real indexer moves the window
 * with the chunks; rows committed with no WAL switch after them are restorable within seconds,
 * and a restore to latest brings every one back. The streamer starts on a fresh slot in the
 * middle of a segment: its first chain still covers the segment from offset 0, which is what the
 * indexer needs to move the window.
 */
@PgTest
@Tag("localcloud")
class StreamedWalJoinCloudTest {
    private static final String STANZA = "joined";
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;
    private StreamedStanza stanza;
    private LocalCloud cloud;
    private PgCluster primary;
    private Path conf;
    private StreamedAgent agent;

    @AfterEach
    void stop() throws Exception {
        StreamedAgent.closeAll(agent, stanza);
    }

    @Test
    void rowsStreamedByTheAgentAreRestorableWithinSecondsAndRestoredToLatest() throws Exception {
        stanza = StreamedStanza.start(dir, STANZA);
        cloud = stanza.cloud();
        primary = stanza.primary();
        conf = stanza.conf();
        WalSegmentSize size = stanza.size();

        // rows in the current segment before the agent starts, and a checkpoint after them: a new
        // physical slot reserves WAL from the last redo point, so the agent's slot starts mid-segment
        primary.sql("insert into t select g, 'before the agent' from generate_series(1000, 1999) g");
        primary.checkpoint();
        WalSegmentName segment = WalSegmentName.parse(primary.currentWalFile(), size);
        // the backup's stop switched WAL: the segments before this one are archived (pushed in-process)
        primary.waitForArchived(segment.previous().toString(), Duration.ofMinutes(1));
        for (Path seg : primary.archivedSegments()) {
            Shim.Run push = Shim.run(new ArchivePushCommand(Map.of()), seg.toString(), "--config", conf.toString());
            assertEquals(0, push.code(), seg + ": " + push.out() + push.err());
        }

        agent = StreamedAgent.start(stanza, primary, new StreamSettings(true, Optional.empty(), Duration.ofMillis(500), 30));
        agent.awaitLine("streaming WAL of stanza");
        Lsn slotAt = Lsn.parse(primary.sql("select restart_lsn from pg_replication_slots where slot_name = '"
                + StreamSettings.OFF.slotFor(StanzaName.of(STANZA)) + "'").strip());
        assertEquals(segment, WalSegmentName.containing(segment.timeline(), slotAt, size));
        assertTrue(size.offsetInSegment(slotAt) > 0, "the slot starts mid-segment, at " + slotAt);
        assertTrue(agent.outText().contains(" from " + segment.startLsn() + " (" + segment + ")"),
                "the agent streams from the start of the slot's segment: " + agent.outText());

        primary.sql("insert into t select g, 'streamed' from generate_series(2000, 2999) g");
        Lsn commit = Lsn.parse(primary.sql("select pg_current_wal_flush_lsn()").strip());
        assertEquals(segment.toString(), primary.currentWalFile(), "no WAL switch after the last commit");

        // the window's right edge reaches the last commit within seconds, through the real indexer
        Awaitility.await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(250))
                .until(() -> latestLsn().map(l -> Lsn.of((l.value() + 7) & ~7L).compareTo(commit) >= 0).orElse(false));
        assertEquals(segment.toString(), primary.currentWalFile(), "still no WAL switch");
        assertTrue(cloud.denials().isEmpty(), "nothing refused under the stack's IAM: " + cloud.denials());
        assertEquals("", agent.errText());

        try (PgCluster restored = PgCluster.builder().emptyDataDir().setting("archive_mode", "off").build()) {
            RestorePlan plan = stanza.restoreAndRecover(restored);
            PlanWal last = plan.wal().getLast();
            assertEquals(segment.toString(), last.name());
            assertTrue(last.isAssembled(), "the last WAL entry is assembled from the agent's chunks: " + last);
            assertEquals(0, last.chunks().getFirst().start(), "the agent's chain covers the segment from offset 0: "
                    + last.chunks());
            assertEquals("2100", restored.sql("select count(*) from t").strip(), "every committed row is back");
            assertEquals("1000", restored.sql("select count(*) from t where batch = 'streamed'").strip());
        }
        agent.stop();
    }

    /** The window's latest restorable LSN as {@code info} shows it; empty while there is none. */
    private Optional<Lsn> latestLsn() throws Exception {
        Shim.Run json = Shim.run(new InfoCommand(Map.of(), Clock.systemUTC()), "--config", conf.toString(),
                "--output", "json");
        assertEquals(0, json.code(), json.err());
        JsonNode lsn = JSON.readTree(json.out()).path("window").path("latest").path("lsn");
        return lsn.isTextual() ? Optional.of(Lsn.parse(lsn.asText())) : Optional.empty();
    }
}
