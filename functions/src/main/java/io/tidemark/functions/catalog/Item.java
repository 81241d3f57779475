package io.tidemark.functions.catalog;

import io.tidemark.events.json.CanonicalJson;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;

/**
 * One catalog item: partition key, sort key and attributes. Attribute values are {@link String},
 * {@link Long}, {@link Boolean}, {@code List<Object>} or {@code Map<String, Object>} of the same
 * (integers are normalised to Long, maps sorted); a null value means "no attribute" and is
 * dropped. Items are values: two items with the same content are equal, whatever order they
 * were built in.
 *
 * <p>Every item Tidemark writes carries {@value #REV}: a hash of its other attributes, used as
 * the version for optimistic concurrency ({@link ItemMerger}). A content hash instead of a
 * counter keeps items fully deterministic: the same catalog content has the same bytes however
 * many times, and in whatever order, it was written.
 */
public record Item(String pk, String sk, Map<String, Object> attributes) {

    public static final String REV = "rev";

    public Item {
        Objects.requireNonNull(pk, "pk");
        Objects.requireNonNull(sk, "sk");
        attributes = normaliseMap(attributes);
    }

    public static Item of(String pk, String sk, Map<String, ?> attributes) {
        return new Item(pk, sk, new TreeMap<>(attributes));
    }

    public Optional<String> string(String name) {
        Object v = attributes.get(name);
        return v instanceof String s ? Optional.of(s) : Optional.empty();
    }

    public Optional<Long> number(String name) {
        Object v = attributes.get(name);
        return v instanceof Long l ? Optional.of(l) : Optional.empty();
    }

    public boolean flag(String name) {
        return Boolean.TRUE.equals(attributes.get(name));
    }

    @SuppressWarnings("unchecked")
    public List<Object> list(String name) {
        Object v = attributes.get(name);
        return v instanceof List<?> l ? (List<Object>) l : List.of();
    }

    /** The stored revision, or null for an item that has none. */
    public String revision() {
        return string(REV).orElse(null);
    }

    /** This item with {@value #REV} set to the hash of its other attributes. */
    public Item withRevision() {
        Map<String, Object> a = new TreeMap<>(attributes);
        a.remove(REV);
        a.put(REV, contentHash(pk, sk, a));
        return new Item(pk, sk, a);
    }

    public Item with(String name, Object value) {
        Map<String, Object> a = new TreeMap<>(attributes);
        if (value == null) {
            a.remove(name);
        } else {
            a.put(name, value);
        }
        return new Item(pk, sk, a);
    }

    public Item without(String name) {
        return with(name, null);
    }

    /** A hash of the keys and the attributes except those named: SHA-256 of canonical JSON, 32 hex digits. */
    public String hashExcluding(String... names) {
        Map<String, Object> a = new TreeMap<>(attributes);
        a.remove(REV);
        for (String n : names) {
            a.remove(n);
        }
        return contentHash(pk, sk, a);
    }

    static String contentHash(String pk, String sk, Map<String, Object> attributes) {
        Map<String, Object> doc = new TreeMap<>();
        doc.put("PK", pk);
        doc.put("SK", sk);
        doc.put("attributes", attributes);
        byte[] json = CanonicalJson.canonicalize(doc);
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(json);
            return HexFormat.of().formatHex(d, 0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Map<String, Object> normaliseMap(Map<String, ?> m) {
        TreeMap<String, Object> out = new TreeMap<>();
        if (m != null) {
            m.forEach((k, v) -> {
                Object n = normalise(v);
                if (n != null) {
                    out.put(Objects.requireNonNull(k, "attribute name"), n);
                }
            });
        }
        return Collections.unmodifiableMap(out);
    }

    private static Object normalise(Object v) {
        return switch (v) {
            case null -> null;
            case String s -> s;
            case Long l -> l;
            case Integer i -> i.longValue();
            case Short s -> s.longValue();
            case Boolean b -> b;
            case List<?> l -> {
                List<Object> out = new ArrayList<>(l.size());
                for (Object o : l) {
                    Object n = normalise(o);
                    if (n == null) {
                        throw new IllegalArgumentException("lists may not hold null");
                    }
                    out.add(n);
                }
                yield Collections.unmodifiableList(out);
            }
            case Map<?, ?> mm -> {
                Map<String, Object> copy = new TreeMap<>();
                mm.forEach((k, val) -> copy.put((String) k, val));
                yield normaliseMap(copy);
            }
            default -> throw new IllegalArgumentException("unsupported attribute value type " + v.getClass().getName());
        };
    }

    /** For logs. */
    public String describe() {
        return pk + " " + sk + " " + new String(CanonicalJson.canonicalize(attributes), StandardCharsets.UTF_8);
    }
}
