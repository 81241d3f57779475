package io.tidemark.events.wal;

import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Tag("unit")
@net.jqwik.api.Tag("unit")
class WalFileNameTest {

    private static final WalSegmentSize MB16 = WalSegmentSize.DEFAULT;

    @Provide
    Arbitrary<WalFileName> names() {
        return WalArbitraries.walFileNames();
    }

    @Property
    void formatThenParseIsIdentity(@ForAll("names") WalFileName name) {
        WalSegmentSize size = switch (name) {
            case WalFileName.Segment s -> s.segment().segmentSize();
            case WalFileName.Partial p -> p.segment().segmentSize();
            case WalFileName.BackupHistory b -> b.segment().segmentSize();
            case WalFileName.History h -> MB16;
        };
        assertEquals(name, WalFileName.parse(name.fileName(), size));
    }

    @Test
    void classifiesEachKind() {
        WalFileName seg = WalFileName.parse("000000010000000000000003", MB16);
        assertInstanceOf(WalFileName.Segment.class, seg);
        assertEquals(TimelineId.FIRST, seg.timeline());

        WalFileName partial = WalFileName.parse("000000020000000A000000FE.partial", MB16);
        assertEquals("000000020000000A000000FE", ((WalFileName.Partial) partial).segment().toString());
        assertEquals(TimelineId.of(2), partial.timeline());
        assertEquals("000000020000000A000000FE.partial", partial.fileName());

        WalFileName history = WalFileName.parse("0000000C.history", MB16);
        assertEquals(new WalFileName.History(TimelineId.of(12)), history);

        WalFileName.BackupHistory backup =
                (WalFileName.BackupHistory) WalFileName.parse("000000010000000000000002.00000028.backup", MB16);
        assertEquals(0x28, backup.offset());
        assertEquals(Lsn.parse("0/2000028"), backup.startLsn());
        assertEquals("000000010000000000000002.00000028.backup", backup.fileName());
    }

    @Test
    void refusesWhatPostgresNeverArchives() {
        for (String bad : new String[] {"00000001.history", "00000000.history", "0000000c.history",
                "000000010000000000000003.PARTIAL", "000000010000000000000003.partia", "000000010000000000000003.gz",
                "000000010000000000000002.01000000.backup", "000000010000000000000002.0000002g.backup",
                "000000010000000000000002.28.backup", "backup_label", "", "RECOVERYHISTORY"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> WalFileName.parse(bad, MB16), bad);
            assertTrue(e.getMessage() != null && !e.getMessage().isBlank());
        }
        assertThrows(IllegalArgumentException.class, () -> WalFileName.parse(null, MB16));
        assertThrows(NullPointerException.class, () -> new WalFileName.Segment(null));
        assertThrows(IllegalArgumentException.class, () -> new WalFileName.History(TimelineId.FIRST));
    }
}
