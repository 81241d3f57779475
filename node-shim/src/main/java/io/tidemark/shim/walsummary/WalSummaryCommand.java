package io.tidemark.shim.walsummary;

import io.tidemark.events.wal.WalSegmentName;
import io.tidemark.events.wal.scan.WalScanner;
import io.tidemark.events.wal.scan.WalSegmentSummary;
import io.tidemark.events.wal.scan.WalSummaryJson;
import io.tidemark.shim.Command;
import io.tidemark.shim.cli.Arguments;
import io.tidemark.shim.cli.CommandFailure;
import io.tidemark.shim.cli.ExitCodes;
import io.tidemark.shim.cli.OutputFormat;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/**
 * {@code tidemark wal-summary FILE}: what one WAL segment holds. Refuses, with one line, a file
 * that is compressed, not WAL, or not exactly one segment long; a damaged segment is not an
 * error: its summary says where the damage starts and why the walk stopped there.
 */
public final class WalSummaryCommand implements Command {

    @Override
    public int run(List<String> args, PrintStream out, PrintStream err) {
        Arguments a = Arguments.parse(args, Set.of("output", "next"), Set.of("transactions"));
        Path file = Path.of(a.requirePositionals(1, "one WAL segment file").get(0));
        OutputFormat format = OutputFormat.parse(a.option("output").orElse("text"));
        byte[] data = read(file);
        String compressed = SegmentFileCheck.compression(data);
        if (compressed != null) {
            throw new CommandFailure(ExitCodes.FAILED, file + " is " + compressed
                    + "-compressed; decompress it first (wal-summary reads raw segments)");
        }
        byte[] next = a.option("next").map(n -> read(Path.of(n))).orElse(null);
        WalSegmentSummary summary = WalScanner.scan(data, data.length, segmentNameOf(file), next);
        SegmentFileCheck.requireSegment(file, data.length, summary);
        if (format == OutputFormat.JSON) {
            out.println(WalSummaryJson.pretty(WalSummaryJson.toJson(summary, a.flag("transactions"))));
        } else {
            TextSummary.print(summary, a.flag("transactions"), out);
        }
        return ExitCodes.OK;
    }

    /**
     * The file name when it is a segment's (checked against the header), else null: a copy
     * saved under another name is still summarised, named after its page header.
     */
    private static String segmentNameOf(Path file) {
        String name = file.getFileName().toString();
        String base = name.endsWith(".partial") ? name.substring(0, name.length() - 8) : name;
        return WalSegmentName.looksLikeSegment(base) ? base : null;
    }

    private static byte[] read(Path file) {
        try {
            if (Files.isDirectory(file)) {
                throw new CommandFailure(ExitCodes.FAILED, file + " is a directory, not a WAL segment file");
            }
            long size = Files.size(file);
            if (size > (1L << 30)) {
                throw new CommandFailure(ExitCodes.FAILED, file + " has " + size
                        + " bytes, more than the largest WAL segment (1 GB): not a WAL segment");
            }
            return Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new CommandFailure(ExitCodes.FAILED, file + ": no such file");
        } catch (IOException e) {
            throw new CommandFailure(ExitCodes.FAILED, "cannot read " + file + ": " + e.getMessage(), e);
        }
    }
}
