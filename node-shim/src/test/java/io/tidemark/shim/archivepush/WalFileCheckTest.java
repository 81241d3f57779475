package io.tidemark.shim.archivepush;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.github.luben.zstd.Zstd;
import io.tidemark.events.wal.WalFileName;
import io.tidemark.events.wal.WalSegmentSize;
import io.tidemark.shim.api.StanzaDoc;
import io.tidemark.testkit.wal.SyntheticWal;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("unit")
class WalFileCheckTest {
    static final long SYSID = 7_300_000_000_000_000_001L;
    static final WalSegmentSize ONE_MB = WalSegmentSize.ofMegabytes(1);

    static StanzaDoc stanza(long sysid, int segBytes) {
        return StanzaDoc.parse("{\"stanza\":\"main\",\"systemIdentifier\":\"" + Long.toUnsignedString(sysid)
                + "\",\"pgVersion\":15,\"pgVersionNum\":150018,\"walSegmentSize\":" + segBytes + "}");
    }

    /** Segment 000000010000000000000005 of a 1 MB cluster with {@link #SYSID}. */
    static byte[] segment() {
        SyntheticWal w = SyntheticWal.pg15OneMb();
        w.commit(100, 1_790_000_000_000_000L);
        w.switchSegment();
        return w.segment(0);
    }

    static final String NAME = "000000010000000000000005";

    private static WalFileCheck.Refusal refuse(String name, byte[] data, StanzaDoc doc) {
        return assertThrows(WalFileCheck.Refusal.class,
                () -> WalFileCheck.check(WalFileName.parse(name, doc.walSegmentSize()), data, doc));
    }

    @Test
    void acceptsARealSegmentAndItsPartial() {
        byte[] seg = segment();
        assertDoesNotThrow(() -> WalFileCheck.check(WalFileName.parse(NAME, ONE_MB), seg, stanza(SYSID, 1 << 20)));
        assertDoesNotThrow(() -> WalFileCheck.check(WalFileName.parse(NAME + ".partial", ONE_MB), seg,
                stanza(SYSID, 1 << 20)));
    }

    @Test
    void damageDeepInsideIsNotARefusal() {
        byte[] seg = segment();
        seg[200_000] ^= 0x55; // inside a record or zeroed tail far past the header pages
        seg[100] ^= 0x01;     // the commit record's body: bad CRC
        assertDoesNotThrow(() -> WalFileCheck.check(WalFileName.parse(NAME, ONE_MB), seg, stanza(SYSID, 1 << 20)));
    }

    @Test
    void wrongSizeIsRefused() {
        byte[] seg = segment();
        WalFileCheck.Refusal truncated = refuse(NAME, Arrays.copyOf(seg, seg.length - 8192), stanza(SYSID, 1 << 20));
        assertTrue(truncated.getMessage().contains("truncated"), truncated.getMessage());
        WalFileCheck.Refusal longer = refuse(NAME, Arrays.copyOf(seg, seg.length + 1), stanza(SYSID, 1 << 20));
        assertTrue(longer.getMessage().contains("too long"), longer.getMessage());
        // a 1 MB segment pushed to a stanza of 16 MB segments
        WalFileCheck.Refusal size = refuse(NAME, seg, stanza(SYSID, 16 << 20));
        assertTrue(size.getMessage().contains("16777216"), size.getMessage());
    }

    @Test
    void foreignSystemIdentifierIsAnIdentityRefusal() {
        WalFileCheck.Refusal r = refuse(NAME, segment(), stanza(SYSID + 1, 1 << 20));
        assertTrue(r.identity());
        assertTrue(r.getMessage().contains(Long.toUnsignedString(SYSID)) && r.getMessage().contains("belongs to"),
                r.getMessage());
    }

    @Test
    void notWalIsRefused() {
        byte[] zeros = new byte[1 << 20];
        WalFileCheck.Refusal r = refuse(NAME, zeros, stanza(SYSID, 1 << 20));
        assertFalse(r.identity());
        assertTrue(r.getMessage().contains("not a WAL segment"), r.getMessage());
        byte[] compressed = Arrays.copyOf(Zstd.compress(segment()), 1 << 20);
        assertTrue(refuse(NAME, compressed, stanza(SYSID, 1 << 20)).getMessage().contains("not a WAL segment"));
    }

    @Test
    void nameThatDoesNotMatchTheHeaderIsRefused() {
        WalFileCheck.Refusal r = refuse("000000010000000000000006", segment(), stanza(SYSID, 1 << 20));
        assertTrue(r.getMessage().contains("header says"), r.getMessage());
    }

    @Test
    void historyAndBackupFilesMustParse() {
        StanzaDoc doc = stanza(SYSID, 16 << 20);
        byte[] history = "1\t0/3000000\tno recovery target specified\n".getBytes(StandardCharsets.UTF_8);
        assertDoesNotThrow(() -> WalFileCheck.check(WalFileName.parse("00000002.history", doc.walSegmentSize()),
                history, doc));
        assertTrue(refuse("00000002.history", "garbage\n".getBytes(StandardCharsets.UTF_8), doc).getMessage()
                .contains("not a valid timeline history"));
        // a PITR to a point before the followed timeline's branch writes switch points that go
        // back; PostgreSQL accepts it, so a refusal would block archiving forever (issue 12)
        byte[] back = "1\t0/5000000\tno recovery target specified\n2\t0/3000000\tat restore point \"r\"\n"
                .getBytes(StandardCharsets.UTF_8);
        assertDoesNotThrow(() -> WalFileCheck.check(WalFileName.parse("00000003.history", doc.walSegmentSize()),
                back, doc));
        // what PostgreSQL refuses we refuse: timeline IDs that do not increase
        assertTrue(refuse("00000003.history", "2\t0/3000000\tx\n1\t0/5000000\ty\n".getBytes(StandardCharsets.UTF_8),
                doc).getMessage().contains("strictly increasing"));
        String label = """
                START WAL LOCATION: 0/2000028 (file 000000010000000000000002)
                STOP WAL LOCATION: 0/2000100 (file 000000010000000000000002)
                CHECKPOINT LOCATION: 0/2000060
                BACKUP METHOD: streamed
                BACKUP FROM: primary
                START TIME: 2024-01-02 03:04:05 UTC
                LABEL: nightly
                START TIMELINE: 1
                STOP TIME: 2024-01-02 03:04:06 UTC
                STOP TIMELINE: 1
                """;
        byte[] b = label.getBytes(StandardCharsets.UTF_8);
        assertDoesNotThrow(() -> WalFileCheck.check(
                WalFileName.parse("000000010000000000000002.00000028.backup", doc.walSegmentSize()), b, doc));
        assertTrue(refuse("000000010000000000000002.00000030.backup", b, doc).getMessage().contains("START WAL LOCATION"));
        assertTrue(refuse("000000010000000000000002.00000028.backup", "x".getBytes(StandardCharsets.UTF_8), doc)
                .getMessage().contains("not a valid backup history file"));
    }
}
