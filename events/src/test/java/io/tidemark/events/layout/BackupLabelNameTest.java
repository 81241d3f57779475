package io.tidemark.events.layout;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Tag("unit")
@net.jqwik.api.Tag("unit")
class BackupLabelNameTest {

    @Test
    void parsesTheThreeKinds() {
        BackupLabelName full = BackupLabelName.parse("20240102-030405F");
        assertEquals(BackupLabelName.Type.FULL, full.type());
        assertTrue(full.isFull());
        assertEquals(LocalDateTime.of(2024, 1, 2, 3, 4, 5), full.start());
        assertEquals(full, full.full());

        BackupLabelName diff = BackupLabelName.parse("20240102-030405F_20240103-000000D");
        assertEquals(BackupLabelName.Type.DIFF, diff.type());
        assertEquals(full, diff.full());
        assertEquals(LocalDateTime.of(2024, 1, 3, 0, 0, 0), diff.start());
        assertEquals("20240102-030405F_20240103-000000D", diff.toString());

        BackupLabelName incr = BackupLabelName.parse("20240102-030405F_20240102-030406I");
        assertEquals(BackupLabelName.Type.INCR, incr.type());
        assertEquals(full, incr.full());
        assertFalse(incr.isFull());
        assertEquals(incr, BackupLabelName.childOf(full, BackupLabelName.Type.INCR, LocalDateTime.of(2024, 1, 2, 3, 4, 6)));
    }

    @Test
    void refusesMalformedLabels() {
        for (String bad : new String[] {"", "20240102-030405", "20240102-030405D", "20240102030405F", "20240102-030405f",
                "20240102-030405F_", "20240102-030405F_20240103-000000F", "20240102-030405F_20240103-000000X",
                "20240230-000000F", "20240102-250000F", "20240102-030405F_20240102-030405D",
                "20240102-030405F_20240101-000000I", "x20240102-030405F", "20240102-030405F/"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> BackupLabelName.parse(bad), bad);
            assertTrue(e.getMessage().contains("backup label"), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> BackupLabelName.parse(null));
        assertThrows(IllegalArgumentException.class,
                () -> BackupLabelName.full(LocalDateTime.of(2024, 1, 1, 0, 0, 0, 5)));
    }

    @Test
    void ordersLikePgBackRest() {
        List<BackupLabelName> labels = new ArrayList<>();
        for (String s : new String[] {"20240105-000000F", "20240101-000000F_20240106-000000D", "20240101-000000F",
                "20240101-000000F_20240102-000000I", "20240105-000000F_20240105-000001I"}) {
            labels.add(BackupLabelName.parse(s));
        }
        Collections.sort(labels);
        assertEquals(List.of("20240101-000000F", "20240101-000000F_20240102-000000I", "20240101-000000F_20240106-000000D",
                "20240105-000000F", "20240105-000000F_20240105-000001I"), labels.stream().map(Object::toString).toList());
    }

    @Provide
    Arbitrary<BackupLabelName> labels() {
        Arbitrary<LocalDateTime> times = Arbitraries.longs().between(-62167219200L, 253402300799L - 100_000)
                .map(s -> LocalDateTime.ofEpochSecond(s, 0, java.time.ZoneOffset.UTC));
        return times.flatMap(full -> Arbitraries.oneOf(
                Arbitraries.just(BackupLabelName.full(full)),
                Arbitraries.longs().between(1, 99_999).flatMap(d -> Arbitraries.of(BackupLabelName.Type.DIFF,
                        BackupLabelName.Type.INCR).map(t -> BackupLabelName.childOf(BackupLabelName.full(full), t,
                        full.plusSeconds(d))))));
    }

    @Property
    void formatThenParseIsIdentity(@ForAll("labels") BackupLabelName label) {
        assertEquals(label, BackupLabelName.parse(label.toString()));
        assertTrue(label.toString().startsWith(label.full().toString()));
    }

    @Property
    void orderIsStringOrder(@ForAll("labels") BackupLabelName a, @ForAll("labels") BackupLabelName b) {
        assertEquals(Integer.signum(a.toString().compareTo(b.toString())), Integer.signum(a.compareTo(b)));
        if (a.full().equals(b.full()) && !a.start().equals(b.start())) {
            // within one full's group the order is chronological
            assertEquals(Integer.signum(a.start().compareTo(b.start())), Integer.signum(a.compareTo(b)));
        }
    }
}
