package io.tidemark.events.plan;

import io.tidemark.events.wal.Lsn;
import java.time.Instant;

/**
 * Where a restore stops: the closed set of PostgreSQL recovery targets. {@link Latest} replays
 * all archived WAL; {@link Immediate} stops as soon as the backup is consistent.
 */
public sealed interface RestoreTarget {

    /** The API/JSON name of the target type. */
    String type();

    record Latest() implements RestoreTarget {
        public String type() {
            return "latest";
        }
    }

    record Immediate() implements RestoreTarget {
        public String type() {
            return "immediate";
        }
    }

    record AtTime(Instant time) implements RestoreTarget {
        public AtTime {
            if (time == null) {
                throw new IllegalArgumentException("target time is missing");
            }
        }

        public String type() {
            return "time";
        }
    }

    /** A transaction id (32-bit, as recovery_target_xid takes it; epoch not supported). */
    record AtXid(long xid) implements RestoreTarget {
        public AtXid {
            if (xid < 3 || xid > 0xFFFFFFFFL) {
                throw new IllegalArgumentException("target xid must be a normal transaction id (3..4294967295), got " + xid);
            }
        }

        public String type() {
            return "xid";
        }
    }

    record AtLsn(Lsn lsn) implements RestoreTarget {
        public AtLsn {
            if (lsn == null || !lsn.isValid()) {
                throw new IllegalArgumentException("target LSN must be a valid LSN, got " + lsn);
            }
        }

        public String type() {
            return "lsn";
        }
    }

    /** A restore point created with pg_create_restore_point (names are at most 63 bytes). */
    record AtName(String name) implements RestoreTarget {
        public AtName {
            if (name == null || name.isEmpty() || name.getBytes(java.nio.charset.StandardCharsets.UTF_8).length > 63) {
                throw new IllegalArgumentException("restore point name must be 1 to 63 bytes, got '" + name + "'");
            }
            if (name.chars().anyMatch(c -> c < 0x20 || c == 0x7F)) {
                throw new IllegalArgumentException("restore point name contains a control character");
            }
        }

        public String type() {
            return "name";
        }
    }

    /** Parses the API form: type plus its value (none for latest and immediate). */
    static RestoreTarget of(String type, String value) {
        if (type == null) {
            throw new IllegalArgumentException("target type is missing");
        }
        return switch (type) {
            case "latest" -> new Latest();
            case "immediate" -> new Immediate();
            case "time" -> new AtTime(TargetTimes.parse(require(value, type)));
            case "xid" -> {
                String v = require(value, type);
                if (!v.matches("[0-9]{1,10}")) {
                    throw new IllegalArgumentException("target xid must be a decimal number, got '" + v + "'");
                }
                yield new AtXid(Long.parseLong(v));
            }
            case "lsn" -> new AtLsn(Lsn.parse(require(value, type)));
            case "name" -> new AtName(require(value, type));
            default -> throw new IllegalArgumentException(
                    "target type must be latest, time, xid, lsn, name or immediate, got '" + type + "'");
        };
    }

    /** The value as text for the API and plans, or null for latest and immediate. */
    default String value() {
        return switch (this) {
            case Latest l -> null;
            case Immediate i -> null;
            case AtTime t -> t.time().toString();
            case AtXid x -> Long.toString(x.xid());
            case AtLsn l -> l.lsn().toString();
            case AtName n -> n.name();
        };
    }

    private static String require(String value, String type) {
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException("target type " + type + " needs a value");
        }
        return value;
    }
}
