package io.tidemark.events.plan;

import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoField;

/**
 * Target times as people type them: ISO-8601 ({@code 2026-11-21T06:00:00Z}), or PostgreSQL's
 * style ({@code 2026-11-21 06:00:00.123456+00}, {@code +05:30}). A time without an offset is
 * refused: guessing a zone is how restores land an hour off.
 */
final class TargetTimes {
    private static final DateTimeFormatter PG_STYLE = new DateTimeFormatterBuilder()
            .appendPattern("yyyy-MM-dd[ ]['T']HH:mm:ss")
            .optionalStart().appendFraction(ChronoField.NANO_OF_SECOND, 1, 9, true).optionalEnd()
            .optionalStart().appendLiteral(' ').optionalEnd()
            .appendPattern("[XXXXX][XXXX][XXX][XX][X]")
            .toFormatter();

    /** PostgreSQL's own rendering, microseconds and a +00 offset: what recovery_target_time gets. */
    private static final DateTimeFormatter PG_OUT = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSSSSSx")
            .withZone(ZoneOffset.UTC);

    private TargetTimes() {
    }

    static Instant parse(String text) {
        String t = text.trim();
        try {
            return Instant.parse(t);
        } catch (DateTimeParseException ignored) {
            // fall through to the PostgreSQL style
        }
        try {
            return OffsetDateTime.parse(t, PG_STYLE).toInstant();
        } catch (DateTimeParseException e) {
            try {
                LocalDateTime.parse(t, PG_STYLE);
                throw new IllegalArgumentException("target time '" + text + "' has no UTC offset; add one, e.g. 'Z' or '+00'");
            } catch (DateTimeParseException e2) {
                throw new IllegalArgumentException("target time '" + text
                        + "' is not a time; use e.g. 2026-11-21T06:00:00Z or '2026-11-21 06:00:00+00'");
            }
        }
    }

    static String forPostgres(Instant time) {
        return PG_OUT.format(time);
    }
}
