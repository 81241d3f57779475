package io.tidemark.shim.walsummary;

import io.tidemark.events.wal.scan.StopReason;
import io.tidemark.events.wal.scan.WalSegmentSummary;
import io.tidemark.shim.cli.CommandFailure;
import io.tidemark.shim.cli.ExitCodes;
import java.nio.file.Path;

/** File-level checks that come before (compression) and after (WAL at all, right size) a scan. */
final class SegmentFileCheck {
    private SegmentFileCheck() {
    }

    /** The compression a file's first bytes announce, or null when it starts like anything else. */
    static String compression(byte[] data) {
        if (startsWith(data, 0x28, 0xB5, 0x2F, 0xFD)) {
            return "zstd";
        }
        if (startsWith(data, 0x04, 0x22, 0x4D, 0x18)) {
            return "lz4";
        }
        if (startsWith(data, 0x1F, 0x8B)) {
            return "gzip";
        }
        if (startsWith(data, 0x42, 0x5A, 0x68)) {
            return "bzip2";
        }
        return null;
    }

    static void requireSegment(Path file, long size, WalSegmentSummary summary) {
        if (summary.stopReason() == StopReason.NOT_WAL) {
            throw new CommandFailure(ExitCodes.FAILED, file + " is not a WAL segment: " + summary.stopDetail());
        }
        long segmentSize = summary.segment().segmentSize().bytes();
        if (size != segmentSize) {
            throw new CommandFailure(ExitCodes.FAILED, file + " has " + size + " bytes but its header says segments are "
                    + segmentSize + " bytes: the file is " + (size < segmentSize ? "truncated" : "padded or not a single segment"));
        }
    }

    private static boolean startsWith(byte[] data, int... magic) {
        if (data.length < magic.length) {
            return false;
        }
        for (int i = 0; i < magic.length; i++) {
            if ((data[i] & 0xFF) != magic[i]) {
                return false;
            }
        }
        return true;
    }
}
