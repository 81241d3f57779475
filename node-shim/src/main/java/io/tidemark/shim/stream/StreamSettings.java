package io.tidemark.shim.stream;

import io.tidemark.events.layout.StanzaName;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The WAL streaming keys of tidemark.conf (every one starts with {@code stream.}):
 * <pre>
 * stream.enabled     true | false: the agent streams WAL to S3 as it is written (default false)
 * stream.slot        the physical replication slot (default tidemark_STANZA, created if missing)
 * stream.interval    how often received WAL is stored as a chunk: 1s (default), 500ms, 5s (100ms..60s)
 * stream.lease-ttl   seconds the stream lease lasts without renewal (default 30, 10..600)
 * stream.synchronous true | false: cut a chunk as soon as the previous one is in S3, not every
 *                    interval, so the agent can be a synchronous standby (default false)
 * </pre>
 * {@code ShimConfig} accepts these keys and has them checked here, as for the drill's.
 *
 * @param slot empty: the default name for the stanza ({@link #slotFor})
 */
public record StreamSettings(boolean enabled, Optional<String> slot, Duration interval, int leaseTtlSeconds,
                             boolean synchronous) {
    private static final Pattern SLOT = Pattern.compile("[a-z0-9_]{1,63}");
    private static final Pattern DURATION = Pattern.compile("(\\d{1,6})(ms|s)?");
    public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(1);
    public static final int DEFAULT_LEASE_TTL = 30;

    public static final StreamSettings OFF = new StreamSettings(false, Optional.empty(), DEFAULT_INTERVAL,
            DEFAULT_LEASE_TTL, false);

    /** Not synchronous. */
    public StreamSettings(boolean enabled, Optional<String> slot, Duration interval, int leaseTtlSeconds) {
        this(enabled, slot, interval, leaseTtlSeconds, false);
    }

    public StreamSettings {
        slot.ifPresent(s -> {
            if (!SLOT.matcher(s).matches()) {
                throw new IllegalArgumentException("stream.slot '" + s + "' is not a replication slot name"
                        + " (1 to 63 of a-z, 0-9 and _)");
            }
        });
        if (interval.compareTo(Duration.ofMillis(100)) < 0 || interval.compareTo(Duration.ofSeconds(60)) > 0) {
            throw new IllegalArgumentException("stream.interval must be from 100ms to 60s, got " + interval.toMillis() + " ms");
        }
        if (leaseTtlSeconds < 10 || leaseTtlSeconds > 600) {
            throw new IllegalArgumentException("stream.lease-ttl must be 10 to 600 seconds, got " + leaseTtlSeconds);
        }
    }

    /** The slot to stream from: {@code stream.slot}, else {@code tidemark_<stanza>} in slot-name characters. */
    public String slotFor(StanzaName stanza) {
        return slot.orElseGet(() -> {
            String s = "tidemark_" + stanza.toString().toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9_]", "_");
            return s.length() > 63 ? s.substring(0, 63) : s;
        });
    }

    /**
     * The application_name of the agent's replication connection: the slot's name, an SQL
     * identifier as it is, so that {@code synchronous_standby_names} can name it unquoted.
     */
    public String applicationNameFor(StanzaName stanza) {
        return slotFor(stanza);
    }

    public static boolean isStreamKey(String key) {
        return key.startsWith("stream.");
    }

    /**
     * The streaming settings among {@code p}'s keys.
     *
     * @throws IllegalArgumentException an unknown {@code stream.} key or a bad value, named
     */
    public static StreamSettings of(Properties p) {
        boolean enabled = false;
        Optional<String> slot = Optional.empty();
        Duration interval = DEFAULT_INTERVAL;
        int ttl = DEFAULT_LEASE_TTL;
        boolean synchronous = false;
        for (String key : new java.util.TreeSet<>(p.stringPropertyNames())) {
            if (!isStreamKey(key)) {
                continue;
            }
            String v = p.getProperty(key).strip();
            switch (key) {
                case "stream.enabled" -> enabled = bool(key, v);
                case "stream.synchronous" -> synchronous = bool(key, v);
                case "stream.slot" -> slot = Optional.of(v);
                case "stream.interval" -> interval = duration(v);
                case "stream.lease-ttl" -> {
                    try {
                        ttl = Integer.parseInt(v);
                    } catch (NumberFormatException e) {
                        throw new IllegalArgumentException("stream.lease-ttl must be a number of seconds, got '" + v + "'");
                    }
                }
                default -> throw new IllegalArgumentException("unknown key " + key
                        + " (stream keys: stream.enabled, stream.slot, stream.interval, stream.lease-ttl,"
                        + " stream.synchronous)");
            }
        }
        return new StreamSettings(enabled, slot, interval, ttl, synchronous);
    }

    private static boolean bool(String key, String v) {
        return switch (v) {
            case "true" -> true;
            case "false" -> false;
            default -> throw new IllegalArgumentException(key + " must be true or false, got '" + v + "'");
        };
    }

    private static Duration duration(String v) {
        Matcher m = DURATION.matcher(v);
        if (!m.matches()) {
            throw new IllegalArgumentException("stream.interval must be a duration such as 1s or 500ms, got '" + v + "'");
        }
        long n = Long.parseLong(m.group(1));
        return "ms".equals(m.group(2)) ? Duration.ofMillis(n) : Duration.ofSeconds(n);
    }

    /** Reads the stream keys of a configuration file (already validated by ShimConfig when it was loaded). */
    public static StreamSettings load(Path file) {
        return of(io.tidemark.shim.config.ShimConfig.properties(file));
    }
}
