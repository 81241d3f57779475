package io.tidemark.shim.info;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** {@code info}'s recovery window when no commit lies in it (an idle cluster after its backup). */
@Tag("unit")
class InfoTextWindowTest {

    @Test
    void aWindowWithoutACommitSaysWhichTargetsAreRestorable() {
        ObjectNode d = InfoCommandTest.withTimelines("main", "7300000000000000001");
        ObjectNode w = d.putObject("window");
        w.putObject("earliest").put("lsn", "0/5000100").put("time", "2026-03-01T12:00:00Z").put("timeline", 1);
        w.putObject("latest").put("lsn", "0/9000800").putNull("time").put("timeline", 1);
        String text = InfoTextGuardsTest.print(d);
        assertTrue(text.contains("recovery window    2026-03-01T12:00:00Z (LSN 0/5000100)  ..  ? (LSN 0/9000800)"), text);
        assertTrue(text.contains("latest restorable  no commit archived in the window yet: restore to latest, an LSN or"
                + " --target-immediate; --target-time needs a commit after the time"), text);
    }
}
