package io.tidemark.functions.lease;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tidemark.events.layout.StanzaName;
import io.tidemark.events.wal.WalSegmentSize;
import io.tidemark.functions.catalog.BackupLease;
import io.tidemark.functions.catalog.CatalogException;
import io.tidemark.functions.catalog.InMemoryCatalogStore;
import io.tidemark.functions.catalog.Item;
import io.tidemark.functions.catalog.Keys;
import io.tidemark.functions.catalog.StanzaMeta;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("unit")
class BackupLeaseServiceTest {

    static final String LABEL = "20260301-010000F";
    static final String OTHER = "20260302-010000F";

    /** A clock the test moves. */
    static final class TestClock extends Clock {
        Instant now = Instant.parse("2026-03-01T01:00:00.123Z");

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }

    final InMemoryCatalogStore store = new InMemoryCatalogStore();
    final TestClock clock = new TestClock();
    final BackupLeaseService leases = new BackupLeaseService(store, clock);

    BackupLeaseServiceTest() {
        store.put(new StanzaMeta(StanzaName.of("main"), "1", 15, 150004, WalSegmentSize.DEFAULT,
                Instant.parse("2026-01-01T00:00:00Z")).toItem().withRevision(), null);
    }

    static byte[] acquireBody(String holder, String label, int ttl) {
        return ("{\"holder\":\"" + holder + "\",\"label\":\"" + label + "\",\"ttlSeconds\":" + ttl + "}")
                .getBytes(StandardCharsets.UTF_8);
    }

    static byte[] heartbeatBody(String leaseId, int ttl) {
        return ("{\"leaseId\":\"" + leaseId + "\",\"ttlSeconds\":" + ttl + "}").getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void acquireGivesALeaseWithExpiryAndATtlAttribute() {
        BackupLease l = leases.acquire("main", acquireBody("db1:4242", LABEL, 900));
        assertEquals(LABEL, l.label());
        assertEquals("db1:4242", l.holder());
        assertEquals(clock.now, l.acquiredAt());
        assertEquals(clock.now.plusSeconds(900), l.expiresAt());
        Item item = store.get(Keys.pk(StanzaName.of("main")), Keys.BACKUP_LEASE).orElseThrow();
        assertEquals(clock.now.plusSeconds(900).getEpochSecond() + 1, item.number("expiresAt").orElseThrow(),
                "TTL in epoch seconds, rounded up");
        assertEquals(l, leases.current(StanzaName.of("main")).orElseThrow());
    }

    @Test
    void aSecondBackupIsRefusedWithWhoRunsIt() {
        BackupLease l = leases.acquire("main", acquireBody("db1:4242", LABEL, 900));
        clock.now = clock.now.plusSeconds(60);
        LeaseConflictException e = assertThrows(LeaseConflictException.class,
                () -> leases.acquire("main", acquireBody("db2:77", OTHER, 900)));
        assertEquals("backup " + LABEL + " is running on db1:4242 since " + l.acquiredAt()
                + "; its lease expires at " + l.expiresAt(), e.getMessage());
        assertEquals(l, e.lease());
    }

    @Test
    void theSameHolderAndLabelAcquiringAgainGetsTheSameLease() {
        BackupLease l = leases.acquire("main", acquireBody("db1:4242", LABEL, 900));
        clock.now = clock.now.plusSeconds(10);
        BackupLease again = leases.acquire("main", acquireBody("db1:4242", LABEL, 900));
        assertEquals(l.leaseId(), again.leaseId());
        assertEquals(clock.now.plusSeconds(900), again.expiresAt());
    }

    @Test
    void anExpiredLeaseIsTakenOver() {
        BackupLease dead = leases.acquire("main", acquireBody("db1:4242", LABEL, 60));
        clock.now = dead.expiresAt();
        BackupLease l = leases.acquire("main", acquireBody("db2:77", OTHER, 900));
        assertNotEquals(dead.leaseId(), l.leaseId());
        assertEquals("db2:77", l.holder());
        // The dead holder's heartbeat now fails, naming the new holder.
        CatalogException e = assertThrows(CatalogException.class,
                () -> leases.heartbeat("main", heartbeatBody(dead.leaseId(), 900)));
        assertEquals(CatalogException.Kind.CONFLICT, e.kind());
        assertTrue(e.getMessage().contains("db2:77"), e.getMessage());
    }

    @Test
    void heartbeatExtendsOnlyForTheHolder() {
        BackupLease l = leases.acquire("main", acquireBody("db1:4242", LABEL, 60));
        clock.now = clock.now.plus(Duration.ofSeconds(30));
        BackupLease renewed = leases.heartbeat("main", heartbeatBody(l.leaseId(), 60));
        assertEquals(clock.now.plusSeconds(60), renewed.expiresAt());
        CatalogException e = assertThrows(CatalogException.class,
                () -> leases.heartbeat("main", heartbeatBody("00000000-0000-4000-8000-000000000000", 60)));
        assertEquals(CatalogException.Kind.CONFLICT, e.kind());
    }

    @Test
    void releaseIsIdempotentAndFreesTheStanza() {
        BackupLease l = leases.acquire("main", acquireBody("db1:4242", LABEL, 900));
        assertFalse(leases.release("main", "00000000-0000-4000-8000-000000000000"));
        assertTrue(leases.release("main", l.leaseId()));
        assertFalse(leases.release("main", l.leaseId()));
        assertTrue(leases.current(StanzaName.of("main")).isEmpty());
        assertEquals(CatalogException.Kind.CONFLICT, assertThrows(CatalogException.class,
                () -> leases.heartbeat("main", heartbeatBody(l.leaseId(), 60))).kind());
        BackupLease next = leases.acquire("main", acquireBody("db2:77", OTHER, 900));
        assertEquals(OTHER, next.label());
    }

    @Test
    void badInputAndUnknownStanzas() {
        assertEquals(CatalogException.Kind.BAD_REQUEST, assertThrows(CatalogException.class,
                () -> leases.acquire("main", acquireBody("db1:1", "yesterday", 900))).kind());
        assertEquals(CatalogException.Kind.BAD_REQUEST, assertThrows(CatalogException.class,
                () -> leases.acquire("main", acquireBody("db 1", LABEL, 900))).kind());
        assertEquals(CatalogException.Kind.BAD_REQUEST, assertThrows(CatalogException.class,
                () -> leases.acquire("main", acquireBody("db1:1", LABEL, 0))).kind());
        assertEquals(CatalogException.Kind.BAD_REQUEST, assertThrows(CatalogException.class,
                () -> leases.acquire("main", "[]".getBytes())).kind());
        assertEquals(CatalogException.Kind.BAD_REQUEST, assertThrows(CatalogException.class,
                () -> leases.release("main", "x")).kind());
        assertEquals(CatalogException.Kind.NOT_FOUND, assertThrows(CatalogException.class,
                () -> leases.acquire("other", acquireBody("db1:1", LABEL, 900))).kind());
    }
}
