package io.tidemark.functions.catalog;

import java.util.Objects;

/**
 * An archived object the catalog holds as lost: gone from the bucket ({@code missing}) or there
 * with other content than was archived ({@code damaged}), with why and since when.
 */
public record LostObject(String key, String status, String problem, String lostAt) {

    /** At most this many are listed in a stanza's description (each costs a read). */
    public static final int MAX_LISTED = 100;

    public LostObject {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(status, "status");
    }

    /** The lost object an item describes, if its status says lost. */
    public static java.util.Optional<LostObject> of(Item i) {
        String status = i.string("status").orElse("");
        if (!status.equals("missing") && !status.equals("damaged")) {
            return java.util.Optional.empty();
        }
        return java.util.Optional.of(new LostObject(i.string("key").orElse(i.sk()), status,
                i.string("problem").orElse(null), i.string("lostAt").orElse(null)));
    }
}
