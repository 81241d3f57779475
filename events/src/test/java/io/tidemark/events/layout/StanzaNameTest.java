package io.tidemark.events.layout;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.AlphaChars;
import net.jqwik.api.constraints.NumericChars;
import net.jqwik.api.constraints.StringLength;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Tag("unit")
@net.jqwik.api.Tag("unit")
class StanzaNameTest {

    @Test
    void acceptsTypicalNames() {
        for (String ok : new String[] {"main", "db1", "pg-prod.eu_west-1", "A", "0", "a".repeat(63), "a.b", "x-"}) {
            assertEquals(ok, StanzaName.of(ok).value());
            assertEquals(ok, StanzaName.of(ok).toString());
        }
    }

    @Test
    void refusesUnsafeNames() {
        for (String bad : new String[] {"", ".hidden", "-x", "_x", "a..b", "a/b", "a b", "a".repeat(64), "caf\u00e9",
                "a\nb", "..", "."}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> StanzaName.of(bad), bad);
            assertTrue(e.getMessage().contains("stanza name"), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> StanzaName.of(null));
    }

    @Property
    void alphanumericNamesUpTo63AreValid(@ForAll @AlphaChars @NumericChars @StringLength(min = 1, max = 63) String s) {
        assertEquals(s, StanzaName.of(s).value());
    }
}
