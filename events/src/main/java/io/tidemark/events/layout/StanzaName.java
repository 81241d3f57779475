package io.tidemark.events.layout;

import java.util.regex.Pattern;

/**
 * The name of a stanza (one PostgreSQL cluster): the first component of all its S3 keys and
 * part of its DynamoDB partition key. {@code [A-Za-z0-9][A-Za-z0-9_.-]{0,62}} and no {@code ..},
 * so that it is a single, safe key component, a valid file name on the node, and readable in
 * logs; 63 characters like a PostgreSQL identifier.
 */
public record StanzaName(String value) implements Comparable<StanzaName> {

    private static final Pattern VALID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,62}");

    public StanzaName {
        if (value == null || value.isEmpty()) {
            throw new IllegalArgumentException("stanza name is missing");
        }
        if (!VALID.matcher(value).matches()) {
            throw new IllegalArgumentException("invalid stanza name '" + value + "': 1 to 63 characters from"
                    + " [A-Za-z0-9_.-], starting with a letter or digit");
        }
        if (value.contains("..")) {
            throw new IllegalArgumentException("invalid stanza name '" + value + "': must not contain '..'");
        }
    }

    public static StanzaName of(String value) {
        return new StanzaName(value);
    }

    @Override
    public int compareTo(StanzaName o) {
        return value.compareTo(o.value);
    }

    @Override
    public String toString() {
        return value;
    }
}
