package io.tidemark.events.paths;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Tag("unit")
@net.jqwik.api.Tag("unit")
class SafeRelativePathTest {

    @Test
    void acceptsOrdinaryDataDirectoryPaths() {
        for (String ok : new String[] {"PG_VERSION", "base/16384/2619", "global/pg_control", "pg_wal/archive_status",
                "pg_tblspc/16400/PG_16_202307071/5/16401_fsm", "my notes/\u00e9t\u00e9 \uD83D\uDE00.txt", "...", "a..b",
                ".hidden", "x/.y", "C", "C_:"}) {
            SafeRelativePath p = SafeRelativePath.of(ok);
            assertEquals(ok, p.path());
            assertEquals(ok, p.toString());
            assertTrue(SafeRelativePath.isSafe(ok));
        }
        SafeRelativePath p = SafeRelativePath.of("base/16384/2619");
        assertEquals(List.of("base", "16384", "2619"), p.components());
        assertEquals("2619", p.fileName());
        assertEquals(SafeRelativePath.of("base/16384/2619/x"), p.resolve("x"));
        assertThrows(IllegalArgumentException.class, () -> p.resolve("../x"));
    }

    @Test
    void refusesEachUnsafeShapeWithAReason() {
        assertRefused("../../etc/passwd", "path '../../etc/passwd' escapes its root: '..' component");
        assertRefused("base/../../x", "escapes its root: '..' component");
        assertRefused("..", "escapes its root");
        assertRefused("", "path is empty");
        assertRefused("/etc/passwd", "is absolute");
        assertRefused("C:/Windows", "drive prefix ('C:')");
        assertRefused("c:x", "drive prefix");
        assertRefused("./base", "'.' component");
        assertRefused("base/.", "'.' component");
        assertRefused("a//b", "empty component");
        assertRefused("a/", "empty component");
        assertRefused("a\0b", "NUL character at index 1");
        assertRefused("a\\..\\b", "backslash at index 1");
        assertRefused("a\nb", "control character U+000A at index 1");
        assertRefused("a\u001Bb", "control character U+001B");
        assertRefused("a\u007Fb", "control character U+007F");
        assertRefused("a\u0085b", "control character U+0085");
        assertRefused("a\u2028b", "control character U+2028");
        assertRefused("a\uD800b", "unpaired surrogate at index 1");
        assertRefused("a\uDC00", "unpaired surrogate at index 1");
        assertRefused("a".repeat(256), "longer than 255");
        assertRefused("a/".repeat(2049) + "a", "longer than 4096");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SafeRelativePath.of(null));
        assertEquals("path is missing", e.getMessage());
    }

    private static void assertRefused(String path, String expected) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SafeRelativePath.of(path));
        assertTrue(e.getMessage().contains(expected), "expected '" + expected + "' in: " + e.getMessage());
        assertFalse(SafeRelativePath.isSafe(path));
        assertTrue(e.getMessage().chars().noneMatch(c -> c < 0x20 || c == 0x7F), "message must be printable");
    }

    @Test
    void resolvesUnderRoot(@org.junit.jupiter.api.io.TempDir Path tmp) {
        Path root = tmp.resolve("data");
        Path resolved = SafeRelativePath.of("base/1/1259").resolveUnder(root);
        assertEquals(root.toAbsolutePath().normalize().resolve("base").resolve("1").resolve("1259"), resolved);
        assertTrue(resolved.startsWith(root));
        Path relativeRoot = Path.of("restore-here");
        assertEquals(relativeRoot.toAbsolutePath().normalize().resolve("PG_VERSION"),
                SafeRelativePath.of("PG_VERSION").resolveUnder(relativeRoot));
    }

    @Provide
    Arbitrary<String> hostilePaths() {
        Arbitrary<String> parts = Arbitraries.oneOf(
                Arbitraries.of("..", ".", "", "/", "\\", "a", "b", "\0", "\n", "C:", "..\\", "~", "\u2028", "\uD800"),
                Arbitraries.strings().ofMaxLength(4));
        return parts.list().ofMinSize(1).ofMaxSize(8).map(l -> String.join("/", l));
    }

    @Property(tries = 3000)
    void whateverIsAcceptedStaysUnderTheRoot(@ForAll("hostilePaths") String raw) {
        Path root = Path.of("/srv/restore/data");
        if (!SafeRelativePath.isSafe(raw)) {
            assertThrows(IllegalArgumentException.class, () -> SafeRelativePath.of(raw));
            return;
        }
        Path resolved = SafeRelativePath.of(raw).resolveUnder(root);
        assertTrue(resolved.startsWith(root) && !resolved.equals(root), raw + " -> " + resolved);
        assertEquals(root.relativize(resolved).toString(), raw);
    }
}
