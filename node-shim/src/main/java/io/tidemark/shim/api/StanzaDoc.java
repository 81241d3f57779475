package io.tidemark.shim.api;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.tidemark.events.wal.WalSegmentSize;
import java.io.IOException;

/**
 * The identity part of a stanza document ({@code GET /stanzas/{stanza}} or the answer of
 * {@code PUT}): what archive-push checks a segment against. Read with Jackson's streaming
 * parser (no ObjectMapper); other fields are skipped. The spool keeps these fields as
 * {@code key=value} lines ({@link #toCacheText()}), which archive-push reads without any JSON
 * parser: Jackson's first use costs a JVM started for one segment about 8 ms (docs/startup.md).
 */
public record StanzaDoc(String stanza, long systemIdentifier, int pgVersion, int pgVersionNum,
                        WalSegmentSize walSegmentSize, String createdAt) {

    /** Created on first use only: archive-push reading the cache must not initialise Jackson. */
    private static final class Json {
        static final JsonFactory FACTORY = new JsonFactory();
    }

    public String systemIdentifierText() {
        return Long.toUnsignedString(systemIdentifier);
    }

    /** @throws IllegalArgumentException when required fields are missing or malformed */
    public static StanzaDoc parse(String json) {
        String stanza = null;
        String sysid = null;
        Integer pgVersion = null;
        Integer pgVersionNum = null;
        Long segSize = null;
        String createdAt = null;
        try (JsonParser p = Json.FACTORY.createParser(json)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw new IllegalArgumentException("stanza document is not a JSON object");
            }
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                JsonToken t = p.nextToken();
                switch (name) {
                    case "stanza" -> stanza = t == JsonToken.VALUE_STRING ? p.getText() : null;
                    case "systemIdentifier" -> sysid = t == JsonToken.VALUE_STRING || t == JsonToken.VALUE_NUMBER_INT
                            ? p.getText() : null;
                    case "pgVersion" -> pgVersion = t == JsonToken.VALUE_NUMBER_INT ? p.getIntValue() : null;
                    case "pgVersionNum" -> pgVersionNum = t == JsonToken.VALUE_NUMBER_INT ? p.getIntValue() : null;
                    case "walSegmentSize" -> segSize = t == JsonToken.VALUE_NUMBER_INT ? p.getLongValue() : null;
                    case "createdAt" -> createdAt = t == JsonToken.VALUE_STRING ? p.getText() : null;
                    default -> p.skipChildren();
                }
            }
        } catch (IOException e) {
            throw new IllegalArgumentException("stanza document is not valid JSON: " + e.getMessage(), e);
        }
        if (stanza == null || sysid == null || pgVersionNum == null || segSize == null) {
            throw new IllegalArgumentException("stanza document lacks stanza, systemIdentifier, pgVersionNum or walSegmentSize");
        }
        long id;
        try {
            id = Long.parseUnsignedLong(sysid);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("systemIdentifier '" + sysid + "' is not an unsigned 64-bit integer");
        }
        return new StanzaDoc(stanza, id, pgVersion == null ? pgVersionNum / 10000 : pgVersion, pgVersionNum,
                WalSegmentSize.ofBytes(segSize), createdAt);
    }

    /** The fields as {@code key=value} lines, for the spool cache. */
    public String toCacheText() {
        StringBuilder sb = new StringBuilder(256)
                .append("# the stanza's identity from the catalog, cached by tidemark; delete to fetch again\n");
        line(sb, "stanza", stanza);
        line(sb, "systemIdentifier", systemIdentifierText());
        line(sb, "pgVersion", Integer.toString(pgVersion));
        line(sb, "pgVersionNum", Integer.toString(pgVersionNum));
        line(sb, "walSegmentSize", Long.toString(walSegmentSize.bytes()));
        if (createdAt != null) {
            line(sb, "createdAt", createdAt);
        }
        return sb.toString();
    }

    private static void line(StringBuilder sb, String key, String value) {
        sb.append(key).append('=').append(value).append('\n');
    }

    /**
     * Reads {@link #toCacheText()}'s form back.
     *
     * @throws IllegalArgumentException a line without '=', a value with a line break, or a field missing or malformed
     */
    public static StanzaDoc fromCacheText(String text) {
        java.util.Map<String, String> v = new java.util.HashMap<>();
        for (String line : text.split("\n")) {
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            int eq = line.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("cached stanza line without key=value: " + line);
            }
            v.put(line.substring(0, eq), line.substring(eq + 1));
        }
        String stanza = v.get("stanza");
        String sysid = v.get("systemIdentifier");
        String num = v.get("pgVersionNum");
        String seg = v.get("walSegmentSize");
        if (stanza == null || sysid == null || num == null || seg == null) {
            throw new IllegalArgumentException("cached stanza lacks stanza, systemIdentifier, pgVersionNum or walSegmentSize");
        }
        try {
            int pgVersionNum = Integer.parseInt(num);
            String major = v.get("pgVersion");
            return new StanzaDoc(stanza, Long.parseUnsignedLong(sysid),
                    major == null ? pgVersionNum / 10000 : Integer.parseInt(major), pgVersionNum,
                    WalSegmentSize.ofBytes(Long.parseLong(seg)), v.get("createdAt"));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("cached stanza has a malformed number: " + e.getMessage(), e);
        }
    }
}
