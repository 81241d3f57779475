package io.tidemark.functions.catalog;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tidemark.events.json.Json;
import io.tidemark.events.wal.WalSegmentSize;
import java.io.IOException;

/**
 * The body of {@code PUT /stanzas/{stanza}}:
 * {@code {"systemIdentifier":"<unsigned decimal>","pgVersion":15,"pgVersionNum":150018,"walSegmentSize":16777216}}.
 * Every refusal is a {@link CatalogException} of kind BAD_REQUEST naming the field. Unknown
 * fields are ignored (a newer shim may send more).
 */
public record CreateStanzaRequest(String systemIdentifier, int pgVersion, int pgVersionNum,
        WalSegmentSize walSegmentSize) {

    /** PostgreSQL majors whose WAL the scanner reads. */
    public static final int MIN_PG_VERSION = 13;
    public static final int MAX_PG_VERSION = 17;

    private static final ObjectMapper STRICT = Json.strict();

    public static CreateStanzaRequest parse(byte[] body) {
        if (body == null || body.length == 0) {
            throw CatalogException.badRequest("request body is missing: expected {\"systemIdentifier\":\"...\","
                    + "\"pgVersion\":N,\"pgVersionNum\":N,\"walSegmentSize\":N}");
        }
        JsonNode root;
        try {
            root = STRICT.readTree(body);
        } catch (JsonProcessingException e) {
            throw CatalogException.badRequest("request body is not valid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw CatalogException.badRequest("request body is not valid JSON: " + e.getMessage());
        }
        if (root == null || !root.isObject()) {
            throw CatalogException.badRequest("request body must be a JSON object");
        }
        String sysid = systemIdentifier(root.get("systemIdentifier"));
        int pgVersion = integer(root, "pgVersion");
        if (pgVersion < MIN_PG_VERSION || pgVersion > MAX_PG_VERSION) {
            throw CatalogException.badRequest("pgVersion " + pgVersion + " is not supported (PostgreSQL "
                    + MIN_PG_VERSION + " to " + MAX_PG_VERSION + ")");
        }
        int pgVersionNum = integer(root, "pgVersionNum");
        if (pgVersionNum / 10000 != pgVersion) {
            throw CatalogException.badRequest("pgVersionNum " + pgVersionNum + " does not belong to pgVersion "
                    + pgVersion + " (expected " + pgVersion + "xxxx, as server_version_num)");
        }
        int size = integer(root, "walSegmentSize");
        WalSegmentSize segmentSize;
        try {
            segmentSize = new WalSegmentSize(size);
        } catch (IllegalArgumentException e) {
            throw CatalogException.badRequest("walSegmentSize: " + e.getMessage());
        }
        return new CreateStanzaRequest(sysid, pgVersion, pgVersionNum, segmentSize);
    }

    private static String systemIdentifier(JsonNode n) {
        if (n == null || n.isNull()) {
            throw CatalogException.badRequest("systemIdentifier is required (a decimal string)");
        }
        if (!n.isTextual()) {
            throw CatalogException.badRequest("systemIdentifier must be a string of decimal digits"
                    + " (64-bit values do not survive JSON numbers)");
        }
        String s = n.asText();
        if (s.isEmpty() || s.length() > 20 || !s.chars().allMatch(c -> c >= '0' && c <= '9')
                || (s.length() > 1 && s.charAt(0) == '0')) {
            throw CatalogException.badRequest("systemIdentifier '" + printable(s)
                    + "' is not an unsigned decimal number without leading zeros");
        }
        long bits;
        try {
            bits = Long.parseUnsignedLong(s);
        } catch (NumberFormatException e) {
            throw CatalogException.badRequest("systemIdentifier " + s + " is larger than 2^64-1");
        }
        if (bits == 0) {
            throw CatalogException.badRequest("systemIdentifier 0 is not a PostgreSQL system identifier");
        }
        return s;
    }

    private static int integer(JsonNode root, String field) {
        JsonNode n = root.get(field);
        if (n == null || n.isNull()) {
            throw CatalogException.badRequest(field + " is required (an integer)");
        }
        if (!n.isIntegralNumber() || !n.canConvertToInt()) {
            throw CatalogException.badRequest(field + " must be an integer, got " + printable(n.toString()));
        }
        return n.intValue();
    }

    private static String printable(String s) {
        String t = s.length() > 40 ? s.substring(0, 40) + "..." : s;
        return t.replaceAll("[^\\x20-\\x7E]", "?");
    }
}
