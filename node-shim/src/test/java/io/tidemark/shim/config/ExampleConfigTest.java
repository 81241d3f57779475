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
        // its streaming lines, uncommented, are accepted too
        Properties streaming = new Properties();
        streaming.putAll(p);
        for (String line : Files.readAllLines(EXAMPLE)) {
            if (line.startsWith("# stream.")) {
                String[] kv = line.substring(2).split("=", 2);
                streaming.setProperty(kv[0], kv[1]);
            }
        }
        assertEquals(4, streaming.stringPropertyNames().stream().filter(k -> k.startsWith("stream.")).count());
        ShimConfig.of(EXAMPLE, streaming, null, Map.of());
        io.tidemark.shim.stream.StreamSettings s = io.tidemark.shim.stream.StreamSettings.of(streaming);
        assertTrue(s.enabled());
        assertEquals("tidemark_main", s.slotFor(c.stanza()));
    }
}
