package io.tidemark.functions.verify;

import io.tidemark.functions.catalog.Item;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;

/**
 * One thing a verify run found wrong: which object (or, for continuity, which WAL file name), what
 * kind of check failed, what the catalog or manifest expects and what was found.
 *
 * @param key the S3 key of the object; for a gap, the name of the first missing WAL segment
 */
public record VerifyProblem(String key, Check check, String expected, String found) {

    /** The closed set of checks. */
    public enum Check {
        /** The object is not in the bucket. */
        MISSING,
        /** Its stored size differs. */
        SIZE,
        /** Its content hashes differently. */
        SHA256,
        /** It cannot be decompressed or parsed. */
        UNREADABLE,
        /** A file inside a bundle: beyond the end, or a different hash. */
        SLICE,
        /** The catalog itself marks it unusable (corrupt, invalid, missing, damaged). */
        STATUS,
        /** WAL of a timeline is not contiguous. */
        GAP,
        /** A timeline's history file is absent, or its parent's WAL does not reach the switch point. */
        HISTORY,
        /** A backup depends on a backup, object or WAL range that is not intact. */
        CHAIN;

        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }

        static Check parse(String label) {
            return valueOf(label.toUpperCase(Locale.ROOT));
        }
    }

    public VerifyProblem {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(check, "check");
        Objects.requireNonNull(expected, "expected");
        Objects.requireNonNull(found, "found");
    }

    /**
     * What the catalog should record about the object ({@code LostObjects}): "missing" when it is
     * gone, "damaged" when its bytes are not what was stored; empty for findings about continuity
     * or chains, which name no damaged object of their own.
     */
    public Optional<String> lostStatus() {
        return switch (check) {
            case MISSING -> Optional.of("missing");
            case SIZE, SHA256, UNREADABLE, SLICE -> Optional.of("damaged");
            case STATUS, GAP, HISTORY, CHAIN -> Optional.empty();
        };
    }

    /** One line: {@code key: check: expected E, found F}. */
    public String text() {
        return key + ": " + check.label() + ": expected " + expected + ", found " + found;
    }

    Item toItem(String pk, String sk, int batch) {
        Map<String, Object> a = new TreeMap<>();
        a.put("kind", "verifyProblem");
        a.put("key", key);
        a.put("check", check.label());
        a.put("expected", expected);
        a.put("found", found);
        a.put("batch", (long) batch);
        return Item.of(pk, sk, a);
    }

    static VerifyProblem fromItem(Item i) {
        return new VerifyProblem(i.string("key").orElse("?"), Check.parse(i.string("check").orElse("status")),
                i.string("expected").orElse(""), i.string("found").orElse(""));
    }
}
