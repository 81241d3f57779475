package io.tidemark.shim.walsummary;

import io.tidemark.events.wal.WalSegmentName;
import io.tidemark.events.wal.scan.WalScanner;
import io.tidemark.events.wal.scan.WalSegmentSummary;
import io.tidemark.events.wal.scan.WalSummaryJson;
import io.tidemark.shim.Command;
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
import picocli.CommandLine;

/**
 * {@code tidemark wal-summary FILE}: what one WAL segment holds. Refuses, with one line, a file
 * that is compressed, not WAL, or not exactly one segment long; a damaged segment is not an
 * error: its summary says where the damage starts and why the walk stopped there.
 */
@CommandLine.Command(name = "wal-summary", mixinStandardHelpOptions = true, versionProvider = io.tidemark.shim.cli.Version.class,
        description = {"Summarise one WAL segment.",
                "Records, commits, aborts, restore points, checkpoints, where and why it ends."})
public final class WalSummaryCommand implements Command {
    @CommandLine.Parameters(index = "0", paramLabel = "FILE", description = "one WAL segment file")
    private Path file;

    @CommandLine.Option(names = "--output", paramLabel = "text|json", description = "text (default) or json")
    private String output = "text";

    @CommandLine.Option(names = "--next", paramLabel = "FILE", description = "the next segment, to finish a record that runs into it")
    private Path nextFile;

    @CommandLine.Option(names = "--transactions", description = "list every commit and abort")
    private boolean transactions;

    @Override
    public int call(PrintStream out, PrintStream err) {
        OutputFormat format = OutputFormat.parse(output);
        byte[] data = read(file);
        String compressed = SegmentFileCheck.compression(data);
        if (compressed != null) {
            throw new CommandFailure(ExitCodes.FAILED, file + " is " + compressed
                    + "-compressed; decompress it first (wal-summary reads raw segments)");
        }
        byte[] next = nextFile == null ? null : read(nextFile);
        WalSegmentSummary summary = WalScanner.scan(data, data.length, segmentNameOf(file), next);
        SegmentFileCheck.requireSegment(file, data.length, summary);
        if (format == OutputFormat.JSON) {
            out.println(WalSummaryJson.pretty(WalSummaryJson.toJson(summary, transactions)));
        } else {
            TextSummary.print(summary, transactions, out);
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
