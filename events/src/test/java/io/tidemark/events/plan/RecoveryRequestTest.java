package io.tidemark.events.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tidemark.events.wal.Lsn;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("unit")
class RecoveryRequestTest {

    @Test
    void everyTargetTypeBecomesPostgresSettings() {
        assertEquals(Map.of("recovery_target_timeline", "latest"), RecoveryRequest.latest().settings());
        assertEquals(Map.of("recovery_target", "immediate", "recovery_target_timeline", "current",
                        "recovery_target_action", "promote"),
                new RecoveryRequest(new RestoreTarget.Immediate(), false, new TimelineTarget.Current(), TargetAction.PROMOTE).settings());
        RecoveryRequest time = new RecoveryRequest(RestoreTarget.of("time", "2026-11-21 06:00:01.5+00"), true,
                TimelineTarget.parse("2"), TargetAction.PAUSE);
        assertEquals("2026-11-21 06:00:01.500000+00", time.settings().get("recovery_target_time"));
        assertEquals("off", time.settings().get("recovery_target_inclusive"));
        assertEquals("2", time.settings().get("recovery_target_timeline"));
        assertEquals("pause", time.settings().get("recovery_target_action"));
        assertEquals("1234", new RecoveryRequest(RestoreTarget.of("xid", "1234"), false, new TimelineTarget.Latest(),
                TargetAction.SHUTDOWN).settings().get("recovery_target_xid"));
        assertEquals("0/3000060", new RecoveryRequest(RestoreTarget.of("lsn", "0/3000060"), false, new TimelineTarget.Latest(),
                TargetAction.PROMOTE).settings().get("recovery_target_lsn"));
        Map<String, String> named = new RecoveryRequest(RestoreTarget.of("name", "before-drop"), false,
                new TimelineTarget.Latest(), TargetAction.PROMOTE).settings();
        assertEquals("before-drop", named.get("recovery_target_name"));
        assertTrue(!named.containsKey("recovery_target_inclusive"));
    }

    @Test
    void targetTimesNeedAnOffset() {
        assertEquals(Instant.parse("2026-11-21T06:00:00Z"), ((RestoreTarget.AtTime) RestoreTarget.of("time", "2026-11-21T06:00:00Z")).time());
        assertEquals(Instant.parse("2026-11-21T00:30:00Z"),
                ((RestoreTarget.AtTime) RestoreTarget.of("time", "2026-11-21 06:00:00+05:30")).time());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RestoreTarget.of("time", "2026-11-21 06:00:00"));
        assertTrue(e.getMessage().contains("no UTC offset"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> RestoreTarget.of("time", "yesterday"));
    }

    @Test
    void badTargetsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> RestoreTarget.of("xid", "-5"));
        assertThrows(IllegalArgumentException.class, () -> RestoreTarget.of("xid", "2"));
        assertThrows(IllegalArgumentException.class, () -> RestoreTarget.of("lsn", "0/0"));
        assertThrows(IllegalArgumentException.class, () -> RestoreTarget.of("name", "x".repeat(64)));
        assertThrows(IllegalArgumentException.class, () -> RestoreTarget.of("name", null));
        assertThrows(IllegalArgumentException.class, () -> RestoreTarget.of("tomorrow", "x"));
        assertThrows(IllegalArgumentException.class, () -> TimelineTarget.parse("0"));
        assertThrows(IllegalArgumentException.class, () -> TargetAction.parse("explode"));
        assertThrows(IllegalArgumentException.class,
                () -> new RecoveryRequest(new RestoreTarget.AtName("x"), true, new TimelineTarget.Latest(), TargetAction.PROMOTE));
        assertEquals(new RestoreTarget.AtLsn(Lsn.parse("0/10")), RestoreTarget.of("lsn", "0/10"));
    }

    @Test
    void quotingForPostgresqlConf() {
        assertEquals("'it''s'", RecoveryRequest.quote("it's"));
        assertThrows(IllegalArgumentException.class, () -> RecoveryRequest.quote("a\nrestore_command='rm -rf /'"));
    }
}
