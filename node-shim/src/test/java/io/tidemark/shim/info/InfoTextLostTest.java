package io.tidemark.shim.info;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** {@code info} says which archived objects were lost from the bucket, and that the gap is one of them. */
@Tag("unit")
class InfoTextLostTest {

    @Test
    void aLostSegmentIsShownAsLostInsideItsGapAndListedWithItsReason() {
        ObjectNode d = InfoCommandTest.withTimelines("main", "7300000000000000001");
        ObjectNode t1 = (ObjectNode) d.withArray("timelines").get(0);
        t1.putArray("lostWal").addObject().put("start", "000000010000000000000005")
                .put("end", "000000010000000000000005");
        d.putArray("lostObjects").addObject().put("key", "main/wal/0000000100000000/000000010000000000000005.zst")
                .put("status", "missing").put("problem", "deleted from the bucket (ObjectRemoved:Delete)")
                .put("lostAt", "2026-03-01T12:00:10Z");
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        InfoText.print(d, new InfoCommand.Lag(10L, 0L, null), new PrintStream(bytes, true, StandardCharsets.UTF_8));
        String text = bytes.toString(StandardCharsets.UTF_8);
        assertTrue(text.contains("!!! GAP !!!        000000010000000000000004 .. 000000010000000000000005 MISSING: "
                + "recovery cannot cross this gap (archived once, LOST from the bucket since)"), text);
        assertTrue(text.contains("!!! LOST !!!       000000010000000000000005 .. 000000010000000000000005"), text);
        assertTrue(text.contains("WARNING: 1 archived object is LOST (deleted from the bucket or damaged)"), text);
        assertTrue(text.contains("  main/wal/0000000100000000/000000010000000000000005.zst  MISSING  since "
                + "2026-03-01T12:00:10Z  deleted from the bucket (ObjectRemoved:Delete)"), text);
    }
}
