package io.tidemark.events.json;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import java.util.Map;
import java.util.TreeMap;

/**
 * Canonical JSON: the exact bytes that are signed (ECDSA) for restore plans and other documents
 * that cross the node-cloud boundary. Two equal documents always give the same bytes, whatever
 * the key order or spacing they were written with, so a verifier can rebuild them.
 *
 * <p>Rules (a subset of RFC 8785, JCS, restricted to integers):
 * <ul>
 *   <li>UTF-8, no BOM, no insignificant white space.</li>
 *   <li>Object members sorted by key in UTF-16 code unit order ({@link String#compareTo}), as RFC 8785.</li>
 *   <li>Numbers must be integers, written as plain decimal digits with an optional {@code -}, of any
 *       size. Floats and doubles are refused even when integral (binary floating point has no
 *       place in signed data); a {@link BigDecimal} is accepted only without a fractional part
 *       ({@code 1.0} and {@code 1E+3} become {@code 1} and {@code 1000}). The refusal names the
 *       JSON pointer of the value. Values beyond 2^53 are exact here but not in JavaScript: write
 *       LSNs and other 64-bit quantities as strings.</li>
 *   <li>Strings: {@code "} and {@code \} escaped with a backslash, {@code \b \f \n \r \t} short
 *       escapes, other characters below U+0020 as {@code \}{@code u00xx} (lower-case hex), everything
 *       else literal. Unpaired surrogates are refused (not encodable in UTF-8).</li>
 *   <li>{@code byte[]} values become standard Base64 strings (what Jackson writes), so canonicalizing
 *       a POJO and canonicalizing its parsed JSON give the same bytes.</li>
 * </ul>
 *
 * <p>{@link #parse} refuses duplicate keys (a classic signature-confusion trick: two parsers
 * picking different duplicates), trailing content and anything but UTF-8.
 *
 * <p>POJOs, records included, go through one shared {@link ObjectMapper} with Jackson's default
 * naming. No java.time module is registered: write times as ISO-8601 strings.
 */
public final class CanonicalJson {

    /** Deeper trees are refused rather than risking a stack overflow. */
    public static final int MAX_DEPTH = 500;

    private static final ObjectMapper MAPPER = Json.canonical();

    private CanonicalJson() {
    }

    /** The canonical bytes of {@code node}; throws {@link IllegalArgumentException} naming the offending pointer. */
    public static byte[] canonicalize(JsonNode node) {
        if (node == null) {
            throw new IllegalArgumentException("no JSON document to canonicalize");
        }
        StringBuilder out = new StringBuilder();
        write(node, "", 0, out);
        return out.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** The canonical bytes of a POJO or record, serialized with the shared mapper. */
    public static byte[] canonicalize(Object pojo) {
        if (pojo instanceof JsonNode node) {
            return canonicalize(node);
        }
        return canonicalize(toTree(pojo));
    }

    /** The tree the shared mapper makes of {@code pojo}. */
    public static JsonNode toTree(Object pojo) {
        try {
            return MAPPER.valueToTree(pojo);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("cannot serialize " + (pojo == null ? "null" : pojo.getClass().getName())
                    + " to JSON: " + e.getMessage(), e);
        }
    }

    /** Binds a parsed tree to {@code type} with the shared mapper (unknown properties are refused). */
    public static <T> T toValue(JsonNode node, Class<T> type) {
        try {
            return MAPPER.treeToValue(node, type);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("JSON does not match " + type.getSimpleName() + ": "
                    + e.getOriginalMessage(), e);
        }
    }

    /**
     * Parses one JSON document from UTF-8 bytes, refusing duplicate keys, trailing content, a BOM
     * and invalid UTF-8. Does not require the input to be canonical; see {@link #isCanonical}.
     */
    public static JsonNode parse(byte[] json) {
        if (json == null || json.length == 0) {
            throw new IllegalArgumentException("JSON document is empty");
        }
        if (json.length >= 3 && (json[0] & 0xFF) == 0xEF && (json[1] & 0xFF) == 0xBB && (json[2] & 0xFF) == 0xBF) {
            throw new IllegalArgumentException("JSON document starts with a byte order mark: UTF-8 without BOM expected");
        }
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(json)).toString();
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("JSON document is not valid UTF-8", e);
        }
        try {
            JsonNode node = MAPPER.readTree(text);
            if (node == null || node.isMissingNode()) {
                throw new IllegalArgumentException("JSON document is empty");
            }
            return node;
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("invalid JSON: " + e.getOriginalMessage(), e);
        }
    }

    /** True when {@code json} parses and is exactly its own canonical form. */
    public static boolean isCanonical(byte[] json) {
        try {
            return Arrays.equals(canonicalize(parse(json)), json);
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    private static void write(JsonNode node, String pointer, int depth, StringBuilder out) {
        if (depth > MAX_DEPTH) {
            throw new IllegalArgumentException("JSON nested deeper than " + MAX_DEPTH + " at " + show(pointer));
        }
        switch (node.getNodeType()) {
            case OBJECT -> {
                TreeMap<String, JsonNode> sorted = new TreeMap<>();
                for (Map.Entry<String, JsonNode> e : node.properties()) {
                    sorted.put(e.getKey(), e.getValue());
                }
                out.append('{');
                boolean first = true;
                for (Map.Entry<String, JsonNode> e : sorted.entrySet()) {
                    if (!first) {
                        out.append(',');
                    }
                    first = false;
                    String child = pointer + "/" + escapePointer(e.getKey());
                    writeString(e.getKey(), child, out);
                    out.append(':');
                    write(e.getValue(), child, depth + 1, out);
                }
                out.append('}');
            }
            case ARRAY -> {
                out.append('[');
                for (int i = 0; i < node.size(); i++) {
                    if (i > 0) {
                        out.append(',');
                    }
                    write(node.get(i), pointer + "/" + i, depth + 1, out);
                }
                out.append(']');
            }
            case STRING -> writeString(node.textValue(), pointer, out);
            case NUMBER -> out.append(integer(node, pointer));
            case BOOLEAN -> out.append(node.booleanValue() ? "true" : "false");
            case NULL -> out.append("null");
            case BINARY -> {
                try {
                    writeString(Base64.getEncoder().encodeToString(node.binaryValue()), pointer, out);
                } catch (java.io.IOException e) {
                    throw new IllegalArgumentException("unreadable binary value at " + show(pointer), e);
                }
            }
            case POJO -> write(toTree(((com.fasterxml.jackson.databind.node.POJONode) node).getPojo()), pointer, depth, out);
            case MISSING -> throw new IllegalArgumentException("missing value at " + show(pointer));
        }
    }

    private static BigInteger integer(JsonNode node, String pointer) {
        if (node.isIntegralNumber()) {
            return node.bigIntegerValue();
        }
        if (node.isBigDecimal()) {
            BigDecimal d = node.decimalValue();
            if (d.signum() == 0) {
                return BigInteger.ZERO;
            }
            BigDecimal s = d.stripTrailingZeros();
            if (s.scale() > 0) {
                throw new IllegalArgumentException("non-integer number " + d.toPlainString() + " at " + show(pointer)
                        + ": canonical JSON allows integers only");
            }
            if (s.precision() - s.scale() > 1000) {
                throw new IllegalArgumentException("integer with more than 1000 digits at " + show(pointer));
            }
            return s.toBigIntegerExact();
        }
        throw new IllegalArgumentException("floating-point number " + node.asText() + " at " + show(pointer)
                + ": canonical JSON allows integers only (use a long, BigInteger or string)");
    }

    private static void writeString(String s, String pointer, StringBuilder out) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else if (Character.isHighSurrogate(c) && i + 1 < s.length()
                            && Character.isLowSurrogate(s.charAt(i + 1))) {
                        out.append(c).append(s.charAt(++i));
                    } else if (Character.isSurrogate(c)) {
                        throw new IllegalArgumentException("unpaired surrogate U+" + String.format("%04X", (int) c)
                                + " in string at " + show(pointer) + ": not encodable in UTF-8");
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }

    /** RFC 6901 escaping of one reference token. */
    private static String escapePointer(String key) {
        return key.replace("~", "~0").replace("/", "~1");
    }

    private static String show(String pointer) {
        return pointer.isEmpty() ? "JSON pointer '' (the root)" : "JSON pointer '" + pointer + "'";
    }
}
