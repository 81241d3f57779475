package io.tidemark.shim.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The distribution archive's example configuration (dist/src/main/dist/etc) is one the shim accepts. */
@Tag("unit")
class ExampleConfigTest {

    static final Path EXAMPLE = Path.of("../dist/src/main/dist/etc/tidemark.conf.example");

    @Test
    void theArchivesExampleConfigurationLoads() throws IOException {
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(EXAMPLE)) {
            p.load(r);
        }
        ShimConfig c = ShimConfig.of(EXAMPLE, p, null, Map.of());
        assertEquals("main", c.stanza().value());
        assertTrue(c.asyncPush().enabled(), "the example keeps the default: asynchronous archiving");
    }
}
