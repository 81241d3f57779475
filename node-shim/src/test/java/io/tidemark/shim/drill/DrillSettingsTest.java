package io.tidemark.shim.drill;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tidemark.shim.cli.CommandFailure;
import io.tidemark.shim.config.ShimConfig;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("unit")
class DrillSettingsTest {
    private static Properties props(String... kv) {
        Properties p = new Properties();
        for (int i = 0; i < kv.length; i += 2) {
            p.setProperty(kv[i], kv[i + 1]);
        }
        return p;
    }

    @Test
    void queriesWithTheirExpectedAnswersAndDatabases() {
        DrillSettings s = DrillSettings.of(props("drill.check.orders", "select count(*) > 0 from orders",
                "drill.check.max", "select max(id) from t", "drill.check.max.expect", "300", "drill.check.max.database", "app",
                "drill.run", "replica", "drill.scratch", "/srv/drill", "stanza", "main"));
        assertEquals(List.of(new DrillSettings.Query("max", "select max(id) from t", "300", "app"),
                new DrillSettings.Query("orders", "select count(*) > 0 from orders", "t", "postgres")), s.queries());
        assertEquals(DrillSettings.Run.REPLICA, s.run());
        assertEquals(Optional.of(Path.of("/srv/drill")), s.scratch());
        assertEquals(DrillSettings.Target.LATEST, s.target(), "latest unless configured");
        assertEquals(DrillSettings.Target.RANDOM, DrillSettings.of(props("drill.target", "random")).target());
        assertEquals(DrillSettings.NONE, DrillSettings.of(props("stanza", "main")));
    }

    @Test
    void aTypoOrABadValueIsRefusedNamingIt() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> DrillSettings.of(props("drill.chek.x", "select 1")))
                .getMessage().contains("unknown key drill.chek.x"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> DrillSettings.of(props("drill.check.x.expect", "1")))
                .getMessage().contains("drill.check.x.expect without drill.check.x"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> DrillSettings.of(props("drill.run", "always")))
                .getMessage().contains("drill.run must be never, replica or any"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> DrillSettings.of(props("drill.target", "oldest")))
                .getMessage().contains("drill.target must be latest or random, got 'oldest'"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> DrillSettings.of(props("drill.scratch", "rel")))
                .getMessage().contains("absolute"));
        // every command refuses it, through the configuration it loads
        CommandFailure f = assertThrows(CommandFailure.class, () -> ShimConfig.of(Path.of("/etc/tidemark.conf"),
                props("stanza", "main", "s3.region", "eu-central-1", "s3.bucket", "tidemark-test", "drill.chek.x", "select 1"),
                null, Map.of()));
        assertTrue(f.getMessage().contains("unknown key drill.chek.x"), f.getMessage());
    }
}
