package io.tidemark.shim.info;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** A scheduled drill's job in {@code info}: the backup it drilled, who passed it; no stored size. */
@Tag("unit")
class InfoTextDrillJobTest {

    @Test
    void aDoneDrillJobNamesTheBackupDrilledAndTheNodesThatPassedIt() {
        ObjectNode d = InfoCommandTest.withTimelines("main", "7300000000000000001");
        ArrayNode jobs = d.putArray("jobs");
        ObjectNode j = jobs.addObject().put("jobId", "20261206T050000Z-4b1f09aa").put("type", "drill").put("state", "done")
                .put("holder", "db2:4242").put("label", "20261206-010000F").put("durationMs", 95100);
        j.putArray("passedBy").add("db1:11");
        jobs.addObject().put("jobId", "20261206T010000Z-0a1b2c3d").put("type", "full").put("state", "done")
                .put("holder", "db1:11").put("label", "20261206-010000F").put("storedSize", 100).put("durationMs", 2000)
                .putArray("passedBy").add("db2:4242");
        String text = InfoTextGuardsTest.print(d);
        assertTrue(text.contains("20261206T050000Z-4b1f09aa  drill  done  on db2:4242  drilled backup 20261206-010000F"
                + " in 95.1 s  (passed by db1:11)"), text);
        assertTrue(text.contains("20261206T010000Z-0a1b2c3d  full  done  on db1:11  backup 20261206-010000F, stored 100"
                + " bytes in 2.0 s  (left by replica db2:4242)"), text);
        assertFalse(text.contains("drill  done  on db2:4242  backup"), text);
    }
}
