package io.tidemark.events.backup;

import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.time.format.ResolverStyle;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A {@code START TIME} / {@code STOP TIME} value: {@code YYYY-MM-DD HH:MM:SS ZONE}, written by
 * PostgreSQL with {@code strftime("%Y-%m-%d %H:%M:%S %Z")} in the server's {@code log_timezone}.
 *
 * <p>{@code %Z} is the zone's abbreviation ({@code UTC}, {@code CEST}, {@code EST}) or, for
 * zones the tz database gives no letters, a numeric one ({@code +03}, {@code -0330}).
 * Abbreviations are ambiguous ({@code IST}, {@code CST}), so only UTC/GMT-like names and numeric
 * offsets resolve on their own ({@link #offset()}); for others the caller supplies the cluster's
 * {@code log_timezone} ({@link #toInstant(ZoneId)}). The zone text is kept as written so that
 * the label formats back to the same line.
 */
public record BackupTimestamp(LocalDateTime local, String zone) {

    private static final DateTimeFormatter LOCAL =
            DateTimeFormatter.ofPattern("uuuu-MM-dd HH:mm:ss", Locale.ROOT).withResolverStyle(ResolverStyle.STRICT);
    private static final Pattern ZONE = Pattern.compile("[A-Za-z][A-Za-z0-9_/+-]{0,62}|[+-][0-9]{2}(:?[0-9]{2})?");
    private static final Pattern NUMERIC = Pattern.compile("([+-])([0-9]{2})(?::?([0-9]{2}))?");

    public BackupTimestamp {
        Objects.requireNonNull(local, "local time");
        Objects.requireNonNull(zone, "zone");
        if (local.getNano() != 0) {
            throw new IllegalArgumentException("backup times have whole seconds, got " + local);
        }
        if (!ZONE.matcher(zone).matches()) {
            throw new IllegalArgumentException("not a time zone abbreviation or offset: '" + zone + "'");
        }
    }

    public static BackupTimestamp parse(String text) {
        String t = text.strip();
        if (t.length() < 21 || t.charAt(19) != ' ') {
            throw new IllegalArgumentException("expected 'YYYY-MM-DD HH:MM:SS ZONE', got '" + text + "'");
        }
        LocalDateTime local;
        try {
            local = LocalDateTime.parse(t.substring(0, 19), LOCAL);
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException("not a valid date and time: '" + t.substring(0, 19) + "'", e);
        }
        return new BackupTimestamp(local, t.substring(20).strip());
    }

    /** The UTC offset when the zone text says it without ambiguity: UTC/GMT/UCT/Z or numeric. */
    public Optional<ZoneOffset> offset() {
        switch (zone.toUpperCase(Locale.ROOT)) {
            case "UTC", "GMT", "UCT", "Z", "ZULU", "UNIVERSAL", "ETC/UTC" -> {
                return Optional.of(ZoneOffset.UTC);
            }
            default -> {
                Matcher m = NUMERIC.matcher(zone);
                if (!m.matches()) {
                    return Optional.empty();
                }
                int h = Integer.parseInt(m.group(2));
                int min = m.group(3) == null ? 0 : Integer.parseInt(m.group(3));
                if (h > 18 || min > 59) {
                    return Optional.empty();
                }
                int sign = m.group(1).equals("-") ? -1 : 1;
                return Optional.of(ZoneOffset.ofHoursMinutes(sign * h, sign * min));
            }
        }
    }

    /** The instant, if {@link #offset()} knows the offset. */
    public Optional<Instant> instant() {
        return offset().map(o -> local.toInstant(o));
    }

    /**
     * The instant, using {@code logTimezone} (the cluster's setting) when the zone text alone is
     * not enough. In a DST overlap the earlier instant is chosen.
     */
    public Instant toInstant(ZoneId logTimezone) {
        return instant().orElseGet(() -> local.atZone(logTimezone).toInstant());
    }

    @Override
    public String toString() {
        return LOCAL.format(local) + " " + zone;
    }
}
