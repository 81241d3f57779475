package io.tidemark.shim.api;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.tidemark.events.wal.WalSegmentSize;
import java.io.IOException;

/**
 * The identity part of a stanza document ({@code GET /stanzas/{stanza}} or the answer of
 * {@code PUT}): what archive-push checks a segment against. Read with Jackson's streaming
 * parser (no ObjectMapper on the archive fast path); other fields are skipped.
 *
 * @param json the whole document as received, kept verbatim for the spool cache
 */
public record StanzaDoc(String stanza, long systemIdentifier, int pgVersion, int pgVersionNum,
                        WalSegmentSize walSegmentSize, String createdAt, String json) {

    private static final JsonFactory JSON = new JsonFactory();

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
        try (JsonParser p = JSON.createParser(json)) {
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
                WalSegmentSize.ofBytes(segSize), createdAt, json);
    }
}
