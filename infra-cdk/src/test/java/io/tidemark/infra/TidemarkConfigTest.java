package io.tidemark.infra;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tidemark.infra.TidemarkConfig.BackupSchedule;
import io.tidemark.infra.TidemarkConfig.ObjectLock;
import io.tidemark.infra.TidemarkConfig.Retention;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** Context parsing and validation; no synthesis. */
@Tag("unit")
class TidemarkConfigTest {

    private static TidemarkConfig read(Map<String, Object> ctx) {
        return TidemarkConfig.fromContext(ctx::get);
    }

    private static String problems(Map<String, Object> ctx) {
        return assertThrows(IllegalArgumentException.class, () -> read(ctx)).getMessage();
    }

    @Test
    void defaults() {
        TidemarkConfig c = read(Map.of("stanzas", List.of("main")));
        assertEquals(List.of("main"), c.stanzaNames());
        assertEquals(TidemarkConfig.DEFAULT_BACKUPS, c.stanzas().get(0).backups());
        assertEquals(TidemarkConfig.DEFAULT_RETENTION, c.stanzas().get(0).retention());
        assertEquals("UTC", c.stanzas().get(0).timezone());
        assertEquals(26, c.stanzas().get(0).maxBackupAgeHours());
        assertEquals(Optional.of(new ObjectLock("GOVERNANCE", 7)), c.objectLock());
        assertEquals(60, c.planUrlTtlMinutes());
        assertEquals(60, c.planTtlMinutes());
        assertEquals(20, c.indexerConcurrency());
        assertEquals(5, c.validatorConcurrency());
        assertEquals(3, c.abortIncompleteMultipartDays());
        assertEquals(30, c.noncurrentVersionDays());
        assertEquals(900, c.archiveLagAlarmSeconds());
        assertEquals(Optional.empty(), c.alarmEmail());
        assertEquals(Path.of("../functions/target/tidemark-functions-lambda.jar"), c.functionsJar());
    }

    @Test
    void retentionFloorsAndClockSkew() {
        assertEquals(TidemarkConfig.Guards.DEFAULT, read(Map.of("stanzas", List.of("main"))).guards());
        assertEquals(new TidemarkConfig.Guards(0, 5, 2), read(Map.of("stanzas", "main", "retentionMinFullAgeHours", "0",
                "retentionMaxFullsPerRun", 5, "clockSkewMinutes", "2")).guards());
        String msg = problems(Map.of("stanzas", "main", "retentionMaxFullsPerRun", 0, "clockSkewMinutes", -1));
        assertTrue(msg.contains("retentionMaxFullsPerRun=0 is outside 1..9999"), msg);
        assertTrue(msg.contains("clockSkewMinutes=-1 is outside 0..1440"), msg);
    }

    @Test
    void verifyRunsDailyUnlessSwitchedOff() {
        TidemarkConfig c = read(Map.of("stanzas", List.of("main")));
        assertEquals(Optional.of(TidemarkConfig.DEFAULT_VERIFY_SCHEDULE), c.verifySchedule());
        assertEquals(48, c.verifyAlarmAgeHours());
        assertEquals(Optional.empty(), read(Map.of("stanzas", "main", "verifySchedule", "off")).verifySchedule());
        assertEquals(Optional.of("rate(12 hours)"), read(Map.of("stanzas", "main", "verifySchedule", "rate(12 hours)",
                "verifyAlarmAgeHours", "30")).verifySchedule());
        String msg = problems(Map.of("stanzas", "main", "verifySchedule", "daily", "verifyAlarmAgeHours", 0));
        assertTrue(msg.contains("verifySchedule='daily' is neither off nor a cron(...) or rate(...) expression"), msg);
        assertTrue(msg.contains("verifyAlarmAgeHours=0 is outside 1..8760"), msg);
    }

    @Test
    void commandLineStrings() {
        // -c stanzas=main,reports  -c objectLock={"mode":"compliance","days":7}  -c planUrlTtlMinutes=15
        Map<String, Object> ctx = Map.of("stanzas", "main, reports",
                "objectLock", "{\"mode\":\"compliance\",\"days\":7}", "planUrlTtlMinutes", "15");
        TidemarkConfig c = read(ctx);
        assertEquals(List.of("main", "reports"), c.stanzaNames());
        assertEquals(Optional.of(new ObjectLock("COMPLIANCE", 7)), c.objectLock());
        assertEquals(15, c.planUrlTtlMinutes());
        assertEquals(List.of("a"), read(Map.of("stanzas", "[\"a\"]")).stanzaNames());
    }

    @Test
    void stanzaObjects() {
        Map<String, Object> s = new HashMap<>();
        s.put("name", "reports");
        s.put("backups", List.of(Map.of("type", "incr", "schedule", "rate(1 hour)")));
        s.put("retention", Map.of("fullType", "time", "full", 14));
        s.put("timezone", "America/New_York");
        s.put("maxBackupAgeHours", 3);
        TidemarkConfig c = read(Map.of("stanzas", List.of(s)));
        TidemarkConfig.StanzaConfig r = c.stanzas().get(0);
        assertEquals(List.of(new BackupSchedule(java.util.Optional.of("incr"), "rate(1 hour)", 7)), r.backups());
        assertEquals(new Retention("time", 14, 6), r.retention());
        assertEquals("America/New_York", r.timezone());
        assertEquals(3, r.maxBackupAgeHours());
    }

    @Test
    void aScheduleWithoutTypeLeavesItToThePolicy() {
        Map<String, Object> s = new HashMap<>();
        s.put("name", "db");
        s.put("backups", List.of(Map.of("schedule", "cron(0 3 * * ? *)", "fullIntervalDays", 14)));
        BackupSchedule b = read(Map.of("stanzas", List.of(s))).stanzas().get(0).backups().get(0);
        assertEquals(new BackupSchedule(java.util.Optional.empty(), "cron(0 3 * * ? *)", 14), b);
        assertEquals(Map.of("stanza", "db", "fullIntervalDays", 14), b.toInput("db"));
        Map<String, Object> bad = new HashMap<>();
        bad.put("name", "db");
        bad.put("backups", List.of(Map.of("schedule", "cron(0 3 * * ? *)", "fullIntervalDays", 0)));
        assertTrue(problems(Map.of("stanzas", List.of(bad))).contains("fullIntervalDays must be an integer 1..366"));
    }

    @Test
    void everyProblemIsReportedAtOnce() {
        Map<String, Object> bad = new HashMap<>();
        bad.put("name", "ok");
        bad.put("backups", List.of(Map.of("type", "weekly", "schedule", "cron(0 1 * * *)"),
                Map.of("type", "full", "schedule", "0 1 * * *")));
        bad.put("retention", Map.of("full", 0, "extra", 1));
        bad.put("colour", "blue");
        Map<String, Object> ctx = new HashMap<>();
        ctx.put("stanzas", List.of("../etc", bad, "Main", "main"));
        ctx.put("objectLock", Map.of("mode", "LEGAL", "days", 0));
        ctx.put("planUrlTtlMinutes", "forever");
        ctx.put("abortIncompleteMultipartDays", 0);
        ctx.put("alarmEmail", "not-an-address");
        String msg = problems(ctx);
        for (String expected : List.of("invalid stanza name '../etc'", "backup type 'weekly'",
                "schedule '0 1 * * *'", "retention.full must be", "unknown retention setting 'extra'",
                "unknown setting 'colour'", "listed twice", "objectLock.mode", "objectLock.days",
                "planUrlTtlMinutes='forever'", "abortIncompleteMultipartDays=0", "alarmEmail=")) {
            assertTrue(msg.contains(expected), "'" + expected + "' in: " + msg);
        }
    }

    @Test
    void stanzasAreRequired() {
        assertTrue(problems(Map.of()).contains("stanzas is required"));
        assertTrue(problems(Map.of("stanzas", List.of())).contains("at least one stanza"));
    }

    @Test
    void stanzasThatWouldCollideAsConstructIdsAreRefused() {
        assertTrue(problems(Map.of("stanzas", List.of("a-b", "ab"))).contains("collide"));
    }

    @Test
    void objectLockOff() {
        assertEquals(Optional.empty(), read(Map.of("stanzas", "main", "objectLock", "off")).objectLock());
    }
}
