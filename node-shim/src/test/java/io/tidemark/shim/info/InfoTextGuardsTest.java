package io.tidemark.shim.info;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * {@code info} warns about what the cloud's guards held or dropped: fulls retention's cap holds
 * until an operator confirms, and WAL whose commit times were ahead of its arrival.
 */
@Tag("unit")
class InfoTextGuardsTest {

    static String print(ObjectNode d) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        InfoText.print(d, new InfoCommand.Lag(10L, 0L, null), new PrintStream(bytes, true, StandardCharsets.UTF_8));
        return bytes.toString(StandardCharsets.UTF_8);
    }

    @Test
    void heldBackFullsAndFutureCommitTimesAreWarnings() {
        ObjectNode d = InfoCommandTest.withTimelines("main", "7300000000000000001");
        ObjectNode r = d.putObject("retention").put("at", "2026-03-05T04:00:00Z").put("policy", "count 2, diff 6")
                .put("backupsExpired", 2).put("confirmed", false);
        r.putArray("heldBack").add("20260301-010000F");
        ObjectNode w = d.putObject("futureWalTimes").put("count", 1);
        w.putArray("segments").add("00000001000000000000000A");
        String text = print(d);
        assertTrue(text.contains("WARNING: retention (run at 2026-03-05T04:00:00Z) HELD BACK 1 full backup beyond its "
                + "cap per run: 20260301-010000F; an operator confirms with the retention function and "
                + "{\"confirm\": true}"), text);
        assertTrue(text.contains("WARNING: 1 WAL segment has commit times ahead of their arrival in the bucket (newest "
                + "00000001000000000000000A): those times are not used for the recovery window or time targets"), text);
    }

    @Test
    void nothingHeldNothingSaid() {
        ObjectNode d = InfoCommandTest.withTimelines("main", "7300000000000000001");
        d.putObject("retention").put("at", "2026-03-05T04:00:00Z").putArray("heldBack");
        String text = print(d);
        assertFalse(text.contains("HELD BACK"), text);
        assertFalse(text.contains("commit times ahead"), text);
    }
}
