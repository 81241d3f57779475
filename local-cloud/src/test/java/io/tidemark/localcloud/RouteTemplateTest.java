package io.tidemark.localcloud;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("unit")
class RouteTemplateTest {

    @Test
    void matchesLiteralsAndVariables() {
        RouteTemplate t = RouteTemplate.parse("/stanzas/{stanza}/restore-plans/{plan}");
        assertEquals(Map.of("stanza", "main", "plan", "p-1"), t.match("/stanzas/main/restore-plans/p-1"));
        assertNull(t.match("/stanzas/main/restore-plans"));
        assertNull(t.match("/stanzas/main/restore-plans/p-1/x"));
        assertNull(t.match("/stanzas//restore-plans/p-1"));
        assertNull(t.match("/stanza/main/restore-plans/p-1"));
        assertEquals(Map.of(), RouteTemplate.parse("/").match("/"));
        assertNull(RouteTemplate.parse("/").match("/x"));
    }

    @Test
    void decodesPathParametersButKeepsPlus() {
        RouteTemplate t = RouteTemplate.parse("/stanzas/{stanza}");
        assertEquals(Map.of("stanza", "my stanza+1/\u00e9"), t.match("/stanzas/my%20stanza+1%2F%C3%A9"));
        assertNull(t.match("/stanzas/bad%zz"));
    }

    @Test
    void greedyTakesTheRest() {
        RouteTemplate t = RouteTemplate.parse("/files/{proxy+}");
        assertEquals(Map.of("proxy", "a/b/c.txt"), t.match("/files/a/b/c.txt"));
        assertNull(t.match("/files"));
        assertNull(t.match("/files/"));
        assertThrows(IllegalArgumentException.class, () -> RouteTemplate.parse("/{proxy+}/x"));
    }

    @Test
    void rejectsBadTemplates() {
        assertThrows(IllegalArgumentException.class, () -> RouteTemplate.parse("stanzas"));
        assertThrows(IllegalArgumentException.class, () -> RouteTemplate.parse("/stanzas/{a}/{a}"));
        assertThrows(IllegalArgumentException.class, () -> RouteTemplate.parse("/stanzas/{a"));
    }

    @Test
    void literalBeatsVariableBeatsGreedy() {
        RouteTemplate literal = RouteTemplate.parse("/stanzas/_health");
        RouteTemplate variable = RouteTemplate.parse("/stanzas/{stanza}");
        RouteTemplate greedy = RouteTemplate.parse("/stanzas/{proxy+}");
        assertTrue(literal.compareSpecificity(variable) < 0);
        assertTrue(variable.compareSpecificity(greedy) < 0);
        assertTrue(greedy.compareSpecificity(literal) > 0);
        assertEquals(0, variable.compareSpecificity(RouteTemplate.parse("/stanzas/{other}")));
    }
}
