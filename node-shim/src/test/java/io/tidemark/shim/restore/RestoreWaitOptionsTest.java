package io.tidemark.shim.restore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tidemark.shim.cli.Cli;
import io.tidemark.shim.cli.UsageException;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("unit")
class RestoreWaitOptionsTest {
    static RestoreWait.Options parse(String... args) {
        RestoreCommand c = new RestoreCommand();
        Cli.parse(c, List.of(args));
        return c.waitOptions();
    }

    @Test
    void waitIsOffUnlessAskedAndDefaultsToAnHourAsPostgres() {
        assertFalse(parse().enabled());
        RestoreWait.Options o = parse("--wait");
        assertTrue(o.enabled());
        assertEquals(Duration.ofHours(1), o.timeout());
        assertEquals("postgres", o.owner());
        o = parse("--wait", "--wait-timeout", "90", "--owner", "pg_15");
        assertEquals(Duration.ofSeconds(90), o.timeout());
        assertEquals("pg_15", o.owner());
    }

    @Test
    void badValuesAndOptionsWithoutWaitAreUsageErrors() {
        assertTrue(assertThrows(UsageException.class, () -> parse("--owner", "postgres")).getMessage()
                .contains("only with --wait"));
        assertTrue(assertThrows(UsageException.class, () -> parse("--wait", "--wait-timeout", "0")).getMessage()
                .contains("--wait-timeout takes seconds"));
        assertTrue(assertThrows(UsageException.class, () -> parse("--wait", "--wait-timeout", "soon")).getMessage()
                .contains("'soon'"));
        assertTrue(assertThrows(UsageException.class, () -> parse("--wait", "--owner", "root; rm -rf /")).getMessage()
                .contains("--owner takes a user name"));
    }
}
