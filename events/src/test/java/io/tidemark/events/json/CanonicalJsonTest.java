package io.tidemark.events.json;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Tag("unit")
@net.jqwik.api.Tag("unit")
class CanonicalJsonTest {

    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    /** Node equality that ignores the Java type of integers (IntNode 0 equals LongNode 0). */
    private static final java.util.Comparator<JsonNode> SAME_VALUE = (a, b) -> {
        if (a.isIntegralNumber() && b.isIntegralNumber()) {
            return a.bigIntegerValue().compareTo(b.bigIntegerValue());
        }
        return a.equals(b) ? 0 : 1;
    };

    record Segment(String name, long size, byte[] sha256) {
    }

    record Plan(String stanza, int version, List<Segment> wal, Map<String, String> settings, Boolean delta) {
    }

    private static String text(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }

    @Test
    void sortsKeysAndDropsWhitespace() {
        JsonNode n = CanonicalJson.parse(("{ \"b\" : [ 1, 2, {\"z\":null,\"a\":true} ],\n \"a\" : \"x\",\"B\":-0,"
                + " \"\u00e9\":1, \"\uD83D\uDE00\":2, \"\uFF21\":3 }").getBytes(StandardCharsets.UTF_8));
        // UTF-16 code unit order: 'B' < 'a' < 'b' < U+00E9 < U+D83D (surrogate) < U+FF21
        assertEquals("{\"B\":0,\"a\":\"x\",\"b\":[1,2,{\"a\":true,\"z\":null}],\"\u00e9\":1,\"\uD83D\uDE00\":2,\"\uFF21\":3}",
                text(CanonicalJson.canonicalize(n)));
    }

    @Test
    void escapesStringsMinimally() {
        ObjectNode o = F.objectNode();
        o.put("s", "q\" b\\ \b\f\n\r\t \u0000\u001f \u007f \u2028 / \u00e9 \uD83D\uDE00");
        assertEquals("{\"s\":\"q\\\" b\\\\ \\b\\f\\n\\r\\t \\u0000\\u001f \u007f \u2028 / \u00e9 \uD83D\uDE00\"}",
                text(CanonicalJson.canonicalize(o)));
        byte[] bytes = CanonicalJson.canonicalize(o);
        assertEquals(o, CanonicalJson.parse(bytes));
    }

    @Test
    void integersOnly() {
        ObjectNode o = F.objectNode();
        o.put("big", new BigInteger("123456789012345678901234567890"));
        o.put("long", Long.MIN_VALUE);
        o.put("dec", new BigDecimal("1.000"));
        o.put("exp", new BigDecimal("1E+3"));
        o.put("zero", new BigDecimal("-0.0"));
        assertEquals("{\"big\":123456789012345678901234567890,\"dec\":1,\"exp\":1000,\"long\":-9223372036854775808,"
                + "\"zero\":0}", text(CanonicalJson.canonicalize(o)));

        ObjectNode nested = F.objectNode();
        nested.putArray("wal").addObject().put("ratio", 0.5);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CanonicalJson.canonicalize(nested));
        assertTrue(e.getMessage().contains("JSON pointer '/wal/0/ratio'"), e.getMessage());
        assertTrue(e.getMessage().contains("integers only"), e.getMessage());

        ObjectNode integralDouble = F.objectNode().put("d", 2.0);
        assertThrows(IllegalArgumentException.class, () -> CanonicalJson.canonicalize(integralDouble));
        ObjectNode fl = F.objectNode().put("f", 1.5f);
        assertThrows(IllegalArgumentException.class, () -> CanonicalJson.canonicalize(fl));
        ObjectNode frac = F.objectNode();
        frac.putObject("a/b").put("~c", new BigDecimal("0.1"));
        e = assertThrows(IllegalArgumentException.class, () -> CanonicalJson.canonicalize(frac));
        assertTrue(e.getMessage().contains("JSON pointer '/a~1b/~0c'"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> CanonicalJson.canonicalize((JsonNode) F.numberNode(1.25)));
        assertTrue(e.getMessage().contains("(the root)"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> CanonicalJson.canonicalize(CanonicalJson.parse("{\"a\":[1, 2.5]}".getBytes(StandardCharsets.UTF_8))));
        assertEquals("{\"a\":[1,2]}", text(CanonicalJson.canonicalize(
                CanonicalJson.parse("{\"a\":[1, 2.0]}".getBytes(StandardCharsets.UTF_8)))));
        assertThrows(IllegalArgumentException.class,
                () -> CanonicalJson.canonicalize(CanonicalJson.parse("[1e100000000]".getBytes(StandardCharsets.UTF_8))));
    }

    @Test
    void recordsAndPojos() {
        Plan plan = new Plan("main", 1, List.of(new Segment("000000010000000000000003", 16777216, new byte[] {1, 2, 3})),
                Map.of("restore_command", "tidemark archive-get %f %p", "recovery_target_action", "promote"), null);
        byte[] bytes = CanonicalJson.canonicalize(plan);
        assertEquals("{\"delta\":null,\"settings\":{\"recovery_target_action\":\"promote\",\"restore_command\":"
                + "\"tidemark archive-get %f %p\"},\"stanza\":\"main\",\"version\":1,\"wal\":[{\"name\":"
                + "\"000000010000000000000003\",\"sha256\":\"AQID\",\"size\":16777216}]}", text(bytes));
        assertTrue(CanonicalJson.isCanonical(bytes));
        // Parsing the canonical bytes and canonicalizing again is stable, and binds back to the record.
        JsonNode tree = CanonicalJson.parse(bytes);
        assertArrayEquals(bytes, CanonicalJson.canonicalize(tree));
        Plan back = CanonicalJson.toValue(tree, Plan.class);
        assertEquals("main", back.stanza());
        assertArrayEquals(new byte[] {1, 2, 3}, back.wal().get(0).sha256());
        record WithDouble(double ratio) {
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> CanonicalJson.canonicalize(new WithDouble(0.5)));
        assertTrue(e.getMessage().contains("'/ratio'"), e.getMessage());
    }

    @Test
    void parseRefusesDuplicatesTrailingDataAndNonUtf8() {
        assertParseRefused("{\"a\":1,\"a\":2}", "Duplicate");
        assertParseRefused("{\"x\":{\"a\":1,\"b\":{},\"a\":1}}", "Duplicate");
        assertParseRefused("{\"a\":1} {}", "invalid JSON");
        assertParseRefused("", "empty");
        assertParseRefused("   ", "empty");
        assertParseRefused("{\"a\":NaN}", "invalid JSON");
        assertParseRefused("\uFEFF{}", "byte order mark");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> CanonicalJson.parse(new byte[] {'"', (byte) 0xC3, '"'}));
        assertTrue(e.getMessage().contains("not valid UTF-8"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> CanonicalJson.parse("{}".getBytes(StandardCharsets.UTF_16BE)));
        assertFalse(e.getMessage().isBlank());
        assertFalse(CanonicalJson.isCanonical("{\"b\":1,\"a\":2}".getBytes(StandardCharsets.UTF_8)));
        assertFalse(CanonicalJson.isCanonical("{\"a\": 2}".getBytes(StandardCharsets.UTF_8)));
        assertTrue(CanonicalJson.isCanonical("{\"a\":2,\"b\":1}".getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void refusesUnpairedSurrogates() {
        JsonNode n = CanonicalJson.parse("{\"k\":[\"\\ud800\"]}".getBytes(StandardCharsets.UTF_8));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CanonicalJson.canonicalize(n));
        assertTrue(e.getMessage().contains("unpaired surrogate") && e.getMessage().contains("'/k/0'"), e.getMessage());
    }

    private static void assertParseRefused(String json, String expected) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> CanonicalJson.parse(json.getBytes(StandardCharsets.UTF_8)));
        assertTrue(e.getMessage().contains(expected), "expected '" + expected + "' in: " + e.getMessage());
    }

    // ---- properties -------------------------------------------------------------------------

    @Provide
    Arbitrary<JsonNode> documents() {
        return tree(3);
    }

    private Arbitrary<JsonNode> tree(int depth) {
        Arbitrary<String> strings = Arbitraries.oneOf(Arbitraries.strings().ofMaxLength(8),
                Arbitraries.strings().withCharRange('\u0000', '\u00ff').ofMaxLength(8),
                Arbitraries.of("a", "b", "A", "\u00e9", "\uD83D\uDE00", "\uFF21", "", "\"", "\\"));
        Arbitrary<JsonNode> leaves = Arbitraries.oneOf(
                strings.filter(CanonicalJsonTest::wellFormed).map(F::textNode),
                Arbitraries.longs().map(F::numberNode),
                Arbitraries.bigIntegers().between(BigInteger.TEN.pow(30).negate(), BigInteger.TEN.pow(30)).map(F::numberNode),
                Arbitraries.of(true, false).map(F::booleanNode),
                Arbitraries.just(F.nullNode()));
        if (depth == 0) {
            return leaves;
        }
        Arbitrary<JsonNode> objects = Arbitraries.maps(strings.filter(CanonicalJsonTest::wellFormed), tree(depth - 1))
                .ofMaxSize(5).map(m -> {
                    ObjectNode o = F.objectNode();
                    m.forEach(o::set);
                    return o;
                });
        Arbitrary<JsonNode> arrays = tree(depth - 1).list().ofMaxSize(5).map(l -> {
            var a = F.arrayNode();
            l.forEach(a::add);
            return a;
        });
        return Arbitraries.oneOf(leaves, objects, arrays);
    }

    private static boolean wellFormed(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                return false;
            }
        }
        return true;
    }

    @Property(tries = 500)
    void roundTripIsStableAndLossless(@ForAll("documents") JsonNode doc) {
        byte[] once = CanonicalJson.canonicalize(doc);
        JsonNode parsed = CanonicalJson.parse(once);
        assertTrue(doc.equals(SAME_VALUE, parsed), () -> doc + " vs " + parsed);
        assertArrayEquals(once, CanonicalJson.canonicalize(parsed));
        assertTrue(CanonicalJson.isCanonical(once));
    }

    @Property(tries = 500)
    void keyOrderDoesNotMatter(@ForAll("documents") JsonNode doc, @ForAll long seed) {
        assertArrayEquals(CanonicalJson.canonicalize(doc), CanonicalJson.canonicalize(shuffled(doc, new Random(seed))));
    }

    private static JsonNode shuffled(JsonNode n, Random random) {
        if (n.isObject()) {
            List<Map.Entry<String, JsonNode>> fields = new ArrayList<>(n.properties());
            Collections.shuffle(fields, random);
            ObjectNode o = F.objectNode();
            fields.forEach(e -> o.set(e.getKey(), shuffled(e.getValue(), random)));
            return o;
        }
        if (n.isArray()) {
            var a = F.arrayNode();
            n.forEach(c -> a.add(shuffled(c, random)));
            return a;
        }
        return n;
    }
}
