package io.tidemark.shim.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tidemark.events.layout.StanzaName;
import io.tidemark.events.wal.WalSegmentSize;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@Tag("unit")
class StanzaCacheTest {
    private static final StanzaName MAIN = StanzaName.of("main");
    private static final StanzaDoc DOC = new StanzaDoc("main", -3L, 15, 150004, WalSegmentSize.ofBytes(16 << 20),
            "2026-01-02T03:04:05Z");

    @TempDir
    Path spool;

    @Test
    void writesKeyValueLinesAndReadsThemBack() throws Exception {
        StanzaCache cache = new StanzaCache(spool);
        assertTrue(cache.write(MAIN, DOC));
        String text = Files.readString(spool.resolve("main/stanza.id"));
        assertTrue(text.contains("\nsystemIdentifier=18446744073709551613\n"), text); // unsigned, as PostgreSQL prints it
        assertTrue(text.contains("\nwalSegmentSize=16777216\n"), text);
        assertEquals(Optional.of(DOC), cache.read(MAIN));
    }

    @Test
    void aDocumentLeftByAnOlderVersionAsJsonIsStillRead() throws Exception {
        Files.createDirectories(spool.resolve("main"));
        Files.writeString(spool.resolve("main/stanza.json"), "{\"stanza\":\"main\",\"systemIdentifier\":\"18446744073709551613\","
                + "\"pgVersion\":15,\"pgVersionNum\":150004,\"walSegmentSize\":16777216,\"createdAt\":\"2026-01-02T03:04:05Z\","
                + "\"timelines\":[{\"timeline\":1}]}");
        StanzaCache cache = new StanzaCache(spool);
        assertEquals(Optional.of(DOC), cache.read(MAIN));
        cache.drop(MAIN);
        assertEquals(Optional.empty(), cache.read(MAIN));
    }

    @Test
    void aDamagedOrForeignCacheIsIgnored() throws Exception {
        StanzaCache cache = new StanzaCache(spool);
        Files.createDirectories(spool.resolve("main"));
        Files.writeString(spool.resolve("main/stanza.id"), "stanza=main\nsystemIdentifier=12x\npgVersionNum=150004\n"
                + "walSegmentSize=16777216\n");
        assertEquals(Optional.empty(), cache.read(MAIN), "a malformed number");
        Files.writeString(spool.resolve("main/stanza.id"), DOC.toCacheText().replace("stanza=main", "stanza=other"));
        assertEquals(Optional.empty(), cache.read(MAIN), "a document for another stanza");
    }

    @Test
    void cacheTextRefusesWhatItCannotRead() {
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
                () -> StanzaDoc.fromCacheText("stanza=main\npgVersionNum=150004\n"));
        assertTrue(missing.getMessage().contains("lacks"), missing.getMessage());
        IllegalArgumentException noEquals = assertThrows(IllegalArgumentException.class,
                () -> StanzaDoc.fromCacheText("stanza main\n"));
        assertTrue(noEquals.getMessage().contains("without key=value"), noEquals.getMessage());
        assertThrows(IllegalArgumentException.class, () -> StanzaDoc.fromCacheText(
                DOC.toCacheText().replace("walSegmentSize=16777216", "walSegmentSize=1000")), "not a power of two");
    }
}
