package io.tidemark.testkit;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Runs {@code pg_waldump} and parses what it prints into {@link WalDumpStats}: the independent
 * oracle that WAL scanner tests compare against.
 *
 * <p>pg_waldump runs as the JVM's own user, also when that is root: it only reads files, accepts
 * root, and so can read WAL copied anywhere a test put it (the postgres user could not read a
 * root-owned temp dir). It runs with TZ=UTC so commit times print unambiguously, and LC_ALL=C.
 */
public final class PgWalDump {

    private static final Duration TIMEOUT = Duration.ofMinutes(5);

    private final PgBinaries binaries;

    public PgWalDump(PgBinaries binaries) {
        this.binaries = binaries;
    }

    /** Uses {@link PgBinaries#locate()}. */
    public static PgWalDump locate() {
        return new PgWalDump(PgBinaries.locate());
    }

    /** Dumps one segment file. Records that continue into the next file are not reported (see {@link WalDumpStats}). */
    public WalDumpStats file(Path segmentFile) {
        Path abs = segmentFile.toAbsolutePath();
        return dump(List.of(abs.toString()), abs.getParent(), abs.toString());
    }

    /** Dumps {@code startSegment} through {@code endSegment} (file names) found in {@code dir}. */
    public WalDumpStats range(Path dir, String startSegment, String endSegment) {
        Path abs = dir.toAbsolutePath();
        return dump(List.of("-p", abs.toString(), startSegment, endSegment), abs,
                abs + " " + startSegment + ".." + endSegment);
    }

    /**
     * Runs pg_waldump with {@code args} (no option that changes the record line format, such as
     * {@code -b} or {@code --stats}). Exit code 1 with "error in WAL record" on stderr is how
     * pg_waldump reports reaching the end of valid WAL; it is returned in {@link WalDumpStats#endError()}.
     * Any other failure throws.
     */
    public WalDumpStats dump(List<String> args, Path workDir, String source) {
        List<String> cmd = new ArrayList<>();
        cmd.add(binaries.tool("pg_waldump").toString());
        cmd.addAll(args);
        WalDumpParser parser = new WalDumpParser(source);
        CommandResult r = new CommandRunner(RunAs.currentUser(), workDir,
                Map.of("TZ", "UTC", "PGTZ", "UTC", "LC_ALL", "C", "LANG", "C"))
                .stream(cmd, TIMEOUT, parser::acceptLine);
        boolean reachedEndOfWal = r.exitCode() == 1 && WalDumpParser.walError(r.stderr()).isPresent();
        if (!r.succeeded() && !reachedEndOfWal) {
            throw new CommandFailedException(r, "pg_waldump could not dump " + source);
        }
        return parser.finish(r.stderr());
    }

    public PgBinaries binaries() {
        return binaries;
    }
}
