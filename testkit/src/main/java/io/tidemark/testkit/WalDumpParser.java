package io.tidemark.testkit;

import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.temporal.ChronoField;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns {@code pg_waldump} text (default output, no {@code -b}) into {@link WalDumpStats}, one line
 * at a time so multi-megabyte message payloads never sit in memory. Formats, as PostgreSQL 15 prints
 * them with TZ=UTC:
 * <pre>
 * rmgr: Transaction len (rec/tot):     34/    34, tx:        725, lsn: 0/0176CEB8, prev 0/0176CE78, desc: ABORT 2026-11-21 05:59:40.473401 UTC
 * rmgr: Transaction len (rec/tot):     42/    42, tx:          0, lsn: 0/0176D058, prev 0/0176CF60, desc: COMMIT_PREPARED 726: 2026-11-21 05:59:40.484480 UTC
 * rmgr: XLOG        len (rec/tot):     98/    98, tx:          0, lsn: 0/0176D230, prev 0/0176D200, desc: RESTORE_POINT before-drop
 * rmgr: XLOG        len (rec/tot):     49/  8241, tx:          1, lsn: 0/010000A0, prev 0/01000028, desc: FPI_FOR_HINT , blkref #0: rel 1663/1/1255 fork fsm blk 2 FPW
 * pg_waldump: error: error in WAL record at 0/20008E8: invalid magic number 0000 in log segment ..., offset 196608   (stderr)
 * </pre>
 */
final class WalDumpParser {

    private static final String LSN = "([0-9A-Fa-f]+/[0-9A-Fa-f]+)";
    private static final Pattern RECORD = Pattern.compile(
            "^rmgr: (\\S+)\\s+len \\(rec/tot\\):\\s*(\\d+)/\\s*(\\d+), tx:\\s*(\\d+), lsn: " + LSN
                    + ", prev " + LSN + ", desc: (.*)$");
    private static final String TIME = "(\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}(?:\\.\\d{1,6})?) ([^\\s;]+)";
    private static final Pattern COMMIT_OR_ABORT = Pattern.compile("^(?:COMMIT|ABORT) " + TIME);
    private static final Pattern PREPARED_DECISION = Pattern.compile("^(?:COMMIT|ABORT)_PREPARED (\\d+): " + TIME);
    private static final Pattern PREPARE = Pattern.compile("^PREPARE gid (.*): " + TIME);
    private static final Pattern CHECKPOINT_REDO = Pattern.compile("^CHECKPOINT_\\w+ redo " + LSN);
    private static final Pattern FPW = Pattern.compile(" FPW\\b");
    private static final Pattern WAL_ERROR = Pattern.compile("error in WAL record at " + LSN + ": (.*)$");
    private static final DateTimeFormatter PG_TIME = new DateTimeFormatterBuilder()
            .appendPattern("yyyy-MM-dd HH:mm:ss")
            .optionalStart().appendFraction(ChronoField.NANO_OF_SECOND, 1, 6, true).optionalEnd()
            .toFormatter();

    private final String source;
    private final List<WalDumpRecord> records = new ArrayList<>();
    private final Map<String, Long> counts = new TreeMap<>();
    private final List<Long> committed = new ArrayList<>();
    private final List<Long> aborted = new ArrayList<>();
    private final List<WalDumpStats.Prepared> prepared = new ArrayList<>();
    private final List<Long> commitPrepared = new ArrayList<>();
    private final List<Long> abortPrepared = new ArrayList<>();
    private final List<String> restorePoints = new ArrayList<>();
    private final List<WalDumpStats.Checkpoint> checkpoints = new ArrayList<>();
    private final List<Long> switches = new ArrayList<>();
    private Instant lastCommit;
    private long fullPageImages;

    WalDumpParser(String source) {
        this.source = source;
    }

    /** Feeds one stdout line. Lines that are not records (there are none by default) are ignored. */
    void acceptLine(String line) {
        if (!line.startsWith("rmgr: ")) {
            return;
        }
        Matcher m = RECORD.matcher(line);
        if (!m.matches()) {
            throw new IllegalStateException("unexpected pg_waldump record line (" + source + "): "
                    + CommandFailedException.tail(line, 300));
        }
        String rmgr = m.group(1);
        String desc = m.group(7);
        int space = desc.indexOf(' ');
        String type = space < 0 ? desc : desc.substring(0, space);
        long lsn = PgLsn.parse(m.group(5));
        long xid = Long.parseLong(m.group(4));
        int blockRefs = desc.indexOf("blkref #");
        boolean fpw = blockRefs >= 0 && FPW.matcher(desc).region(blockRefs, desc.length()).find();

        long decidedXid = 0;
        Instant xactTime = null;
        if (rmgr.equals("Transaction")) {
            Matcher t;
            if ((t = COMMIT_OR_ABORT.matcher(desc)).lookingAt()) {
                decidedXid = xid;
                xactTime = utc(t.group(1), t.group(2));
                (type.equals("COMMIT") ? committed : aborted).add(xid);
            } else if ((t = PREPARED_DECISION.matcher(desc)).lookingAt()) {
                decidedXid = Long.parseLong(t.group(1));
                xactTime = utc(t.group(2), t.group(3));
                (type.equals("COMMIT_PREPARED") ? commitPrepared : abortPrepared).add(decidedXid);
            } else if ((t = PREPARE.matcher(desc)).lookingAt()) {
                xactTime = utc(t.group(2), t.group(3));
                prepared.add(new WalDumpStats.Prepared(xid, t.group(1), lsn));
            }
            if (xactTime != null && type.startsWith("COMMIT")) {
                lastCommit = xactTime;
            }
        } else if (rmgr.equals("XLOG")) {
            if (type.equals("RESTORE_POINT")) {
                restorePoints.add(space < 0 ? "" : desc.substring(space + 1));
            } else if (type.equals("SWITCH")) {
                switches.add(lsn);
            } else if (type.startsWith("CHECKPOINT_")) {
                Matcher c = CHECKPOINT_REDO.matcher(desc);
                long redo = c.lookingAt() ? PgLsn.parse(c.group(1)) : 0;
                checkpoints.add(new WalDumpStats.Checkpoint(lsn, redo, type.equals("CHECKPOINT_SHUTDOWN")));
            }
        }
        if (fpw) {
            fullPageImages++;
        }
        WalDumpRecord r = new WalDumpRecord(rmgr, type, lsn, PgLsn.parse(m.group(6)), xid,
                Integer.parseInt(m.group(2)), Integer.parseInt(m.group(3)), fpw, decidedXid,
                Optional.ofNullable(xactTime),
                desc.length() <= WalDumpRecord.DESC_KEEP_CHARS ? desc : desc.substring(0, WalDumpRecord.DESC_KEEP_CHARS));
        records.add(r);
        counts.merge(r.key(), 1L, Long::sum);
    }

    /** The closing "error in WAL record at X/X: why" from stderr, if there is one. */
    static Optional<Matcher> walError(String stderr) {
        Matcher m = WAL_ERROR.matcher("");
        for (String line : stderr.split("\n")) {
            if (m.reset(line).find()) {
                return Optional.of(m);
            }
        }
        return Optional.empty();
    }

    WalDumpStats finish(String stderr) {
        Optional<Matcher> err = walError(stderr);
        return new WalDumpStats(source, List.copyOf(records), Map.copyOf(counts), List.copyOf(committed),
                List.copyOf(aborted), List.copyOf(prepared), List.copyOf(commitPrepared), List.copyOf(abortPrepared),
                List.copyOf(restorePoints), List.copyOf(checkpoints), List.copyOf(switches),
                Optional.ofNullable(lastCommit), fullPageImages,
                err.map(m -> m.group(0)),
                err.map(m -> OptionalLong.of(PgLsn.parse(m.group(1)))).orElse(OptionalLong.empty()));
    }

    private Instant utc(String text, String zone) {
        if (!(zone.equals("UTC") || zone.equals("GMT") || zone.equals("+00"))) {
            throw new IllegalStateException("pg_waldump printed a time in zone '" + zone + "' (" + source
                    + "); it must run with TZ=UTC so times are unambiguous");
        }
        return LocalDateTime.parse(text, PG_TIME).toInstant(ZoneOffset.UTC);
    }
}
