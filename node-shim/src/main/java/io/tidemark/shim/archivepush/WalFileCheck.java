package io.tidemark.shim.archivepush;

import io.tidemark.events.backup.BackupLabel;
import io.tidemark.events.wal.TimelineHistory;
import io.tidemark.events.wal.WalFileName;
import io.tidemark.events.wal.WalSegmentName;
import io.tidemark.events.wal.scan.StopReason;
import io.tidemark.events.wal.scan.WalScanner;
import io.tidemark.events.wal.scan.WalSegmentSummary;
import io.tidemark.shim.api.StanzaDoc;

/**
 * What archive-push checks before anything leaves the node. A segment or {@code .partial} must
 * be exactly one segment long and start with a valid long page header (known magic, the
 * stanza's segment size and system identifier, the page address its name says). Only the start
 * of the file is scanned: damage deep inside a segment (a bad CRC) is archived as is, since
 * PostgreSQL wrote it and refusing would only stop archiving; the indexer reports it.
 * {@code .history} and {@code .backup} files must parse.
 */
final class WalFileCheck {
    /** The file must not be archived; {@link #identity()} when it belongs to another cluster. */
    static final class Refusal extends Exception {
        private final boolean identity;

        Refusal(String message, boolean identity) {
            super(message);
            this.identity = identity;
        }

        boolean identity() {
            return identity;
        }
    }

    private WalFileCheck() {
    }

    static void check(WalFileName name, byte[] data, StanzaDoc stanza) throws Refusal {
        // instanceof rather than a pattern switch: a type switch is linked at run time (a class is
        // generated), which a JVM started for one WAL segment would pay on every push (docs/startup.md)
        if (name instanceof WalFileName.Segment s) {
            checkSegment(name.fileName(), s.segment(), data, stanza);
        } else if (name instanceof WalFileName.Partial p) {
            checkSegment(name.fileName(), p.segment(), data, stanza);
        } else if (name instanceof WalFileName.History h) {
            try {
                TimelineHistory.parse(h.timeline(), data);
            } catch (IllegalArgumentException e) {
                throw new Refusal(name.fileName() + " is not a valid timeline history file: " + e.getMessage(), false);
            }
        } else if (name instanceof WalFileName.BackupHistory b) {
            BackupLabel label;
            try {
                label = BackupLabel.parse(data, stanza.walSegmentSize());
            } catch (IllegalArgumentException e) {
                throw new Refusal(name.fileName() + " is not a valid backup history file: " + e.getMessage(), false);
            }
            if (!label.startLsn().equals(b.startLsn())) {
                throw new Refusal(name.fileName() + " names start LSN " + b.startLsn() + " but its START WAL LOCATION is "
                        + label.startLsn(), false);
            }
        } else {
            throw new IllegalStateException("unknown kind of WAL file name: " + name);
        }
    }

    private static void checkSegment(String fileName, WalSegmentName segment, byte[] data, StanzaDoc stanza)
            throws Refusal {
        long expected = stanza.walSegmentSize().bytes();
        if (data.length != expected) {
            throw new Refusal(fileName + " has " + data.length + " bytes but the WAL segments of stanza " + stanza.stanza()
                    + " are " + expected + " bytes: the file is "
                    + (data.length < expected ? "truncated" : "too long"), false);
        }
        WalSegmentSummary summary = WalScanner.scanHeader(data, segment.toString());
        if (summary.stopReason() == StopReason.NOT_WAL) {
            throw new Refusal(fileName + " is not a WAL segment: " + summary.stopDetail(), false);
        }
        long headerSize = summary.segment().segmentSize().bytes();
        if (headerSize != expected) {
            throw new Refusal(fileName + ": its header says segments are " + headerSize + " bytes, but stanza "
                    + stanza.stanza() + " has " + expected + "-byte segments", true);
        }
        if (summary.systemIdentifier() != stanza.systemIdentifier()) {
            throw new Refusal(fileName + " belongs to database system " + summary.systemIdentifierText()
                    + ", but stanza " + stanza.stanza() + " is system " + stanza.systemIdentifierText()
                    + ": wrong stanza, or the cluster was re-initialised (run stanza-create for a new stanza)", true);
        }
    }
}
