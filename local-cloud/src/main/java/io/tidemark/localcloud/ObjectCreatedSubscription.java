package io.tidemark.localcloud;

import java.util.Objects;

/**
 * One S3 event notification configuration: ObjectCreated events (and, with {@code removals},
 * ObjectRemoved events too) whose key starts with {@code prefix} and ends with {@code suffix}
 * (null or empty: any) go to one function. Filters match the real key, not its URL-encoded form,
 * as in S3.
 */
record ObjectCreatedSubscription(String name, String prefix, String suffix, HandlerFactory factory, boolean removals) {

    ObjectCreatedSubscription(String name, String prefix, String suffix, HandlerFactory factory) {
        this(name, prefix, suffix, factory, false);
    }

    ObjectCreatedSubscription {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(factory, "factory");
        prefix = prefix == null ? "" : prefix;
        suffix = suffix == null ? "" : suffix;
    }

    boolean matches(String key) {
        return key.startsWith(prefix) && key.endsWith(suffix);
    }
}
