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

    static final String BOOT = "0f4f1c2e-7d1a-4a53-9a8e-1f2b3c4d5e6f";

    static byte[] identityBody(String holder, String label, int ttl, String host, long pid, long start,
                               String takeoverOf) {
        return ("{\"holder\":\"" + holder + "\",\"label\":\"" + label + "\",\"ttlSeconds\":" + ttl
                + ",\"identity\":{\"host\":\"" + host + "\",\"bootId\":\"" + BOOT + "\",\"pid\":" + pid
                + ",\"startTicks\":" + start + "}"
                + (takeoverOf == null ? "" : ",\"takeover\":{\"leaseId\":\"" + takeoverOf
                + "\",\"reason\":\"pid " + pid + " is gone\"}") + "}").getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void theSameHostTakesOverTheLeaseOfItsDeadProcessAtOnceAndItIsRecorded() {
        BackupLease dead = leases.acquire("main", identityBody("db1:4242", LABEL, 60, "db1/m1", 4242, 1000, null));
        assertEquals(new BackupLease.Identity("db1/m1", BOOT, 4242, 1000), dead.identity());
        clock.now = clock.now.plusSeconds(5);
        // Without a takeover the next backup is refused as before.
        assertThrows(LeaseConflictException.class,
                () -> leases.acquire("main", identityBody("db1:5000", OTHER, 60, "db1/m1", 5000, 2000, null)));
        BackupLease l = leases.acquire("main", identityBody("db1:5000", OTHER, 60, "db1/m1", 5000, 2000,
                dead.leaseId()));
        assertNotEquals(dead.leaseId(), l.leaseId());
        assertEquals(OTHER, l.label());
        assertEquals(clock.now.plusSeconds(60), l.expiresAt());
        assertEquals(new BackupLease.Takeover(dead.leaseId(), "db1:4242", "pid 5000 is gone", clock.now), l.takeover());
        // Recorded in the item, and the dead holder's heartbeat and release no longer touch it.
        assertEquals(l, BackupLease.fromItem(store.get(Keys.pk(StanzaName.of("main")), Keys.BACKUP_LEASE).orElseThrow()));
        assertEquals(CatalogException.Kind.CONFLICT, assertThrows(CatalogException.class,
                () -> leases.heartbeat("main", heartbeatBody(dead.leaseId(), 60))).kind());
        assertFalse(leases.release("main", dead.leaseId()));
        assertEquals(l, leases.current(StanzaName.of("main")).orElseThrow());
    }

    @Test
    void anotherHostCannotTakeOverAndWaitsForTheShortLeaseToExpire() {
        BackupLease held = leases.acquire("main", identityBody("db1:4242", LABEL, 60, "db1/m1", 4242, 1000, null));
        clock.now = clock.now.plusSeconds(30);
        LeaseConflictException e = assertThrows(LeaseConflictException.class,
                () -> leases.acquire("main", identityBody("db2:77", OTHER, 60, "db2/m2", 77, 5, held.leaseId())));
        assertTrue(e.getMessage().contains("from another host (db2/m2 is not db1/m1)"), e.getMessage());
        assertEquals(held, e.lease());
        // Heartbeats keep it; once they stop it expires within its TTL and anyone may acquire it.
        BackupLease renewed = leases.heartbeat("main", heartbeatBody(held.leaseId(), 60));
        clock.now = renewed.expiresAt().minusMillis(1);
        assertThrows(LeaseConflictException.class,
                () -> leases.acquire("main", identityBody("db2:77", OTHER, 60, "db2/m2", 77, 5, held.leaseId())));
        clock.now = renewed.expiresAt();
        BackupLease l = leases.acquire("main", identityBody("db2:77", OTHER, 60, "db2/m2", 77, 5, null));
        assertEquals("db2:77", l.holder());
        assertEquals(null, l.takeover(), "an expired lease is acquired, not taken over");
    }

    @Test
    void aTakeoverMustNameTheCurrentLeaseAndCarryAnIdentity() {
        BackupLease held = leases.acquire("main", identityBody("db1:4242", LABEL, 60, "db1/m1", 4242, 1000, null));
        LeaseConflictException stale = assertThrows(LeaseConflictException.class,
                () -> leases.acquire("main", identityBody("db1:5000", OTHER, 60, "db1/m1", 5000, 2000,
                        "00000000-0000-4000-8000-000000000000")));
        assertTrue(stale.getMessage().contains("the stanza's lease is now " + held.leaseId()), stale.getMessage());
        LeaseConflictException own = assertThrows(LeaseConflictException.class,
                () -> leases.acquire("main", identityBody("db1:4242", OTHER, 60, "db1/m1", 4242, 1000, held.leaseId())));
        assertTrue(own.getMessage().contains("the caller's own"), own.getMessage());
        // A holder that recorded no identity (an older shim) cannot be proved dead: it expires.
        leases.release("main", held.leaseId());
        BackupLease old = leases.acquire("main", acquireBody("db1:4242", LABEL, 60));
        LeaseConflictException none = assertThrows(LeaseConflictException.class,
                () -> leases.acquire("main", identityBody("db1:5000", OTHER, 60, "db1/m1", 5000, 2000, old.leaseId())));
        assertTrue(none.getMessage().contains("recorded no process identity"), none.getMessage());
        assertEquals(CatalogException.Kind.BAD_REQUEST, assertThrows(CatalogException.class, () -> leases.acquire("main",
                ("{\"holder\":\"h:1\",\"label\":\"" + OTHER + "\",\"takeover\":{\"leaseId\":\"" + old.leaseId()
                        + "\",\"reason\":\"gone\"}}").getBytes(StandardCharsets.UTF_8))).kind());
        assertEquals(CatalogException.Kind.BAD_REQUEST, assertThrows(CatalogException.class, () -> leases.acquire("main",
                ("{\"holder\":\"h:1\",\"label\":\"" + OTHER + "\",\"identity\":{\"host\":\"h\",\"bootId\":\"x y\","
                        + "\"pid\":1,\"startTicks\":1}}").getBytes(StandardCharsets.UTF_8))).kind());
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

    @Test
    void theStreamLeaseIsItsOwnItemWithTheSlotAsLabelAndPassesOnAtExpiry() {
        BackupLeaseService streams = BackupLeaseService.stream(store, clock);
        BackupLease backup = leases.acquire("main", acquireBody("db1:1", LABEL, 60));
        BackupLease a = streams.acquire("main", acquireBody("db1:4242", "tidemark_main", 30));
        assertNotEquals(backup.leaseId(), a.leaseId(), "a backup and the stream hold leases side by side");
        assertTrue(store.get(Keys.pk(StanzaName.of("main")), Keys.STREAM_LEASE).isPresent());
        LeaseConflictException busy = assertThrows(LeaseConflictException.class,
                () -> streams.acquire("main", acquireBody("db2:77", "tidemark_main", 30)));
        assertEquals("agent db1:4242 streams from slot tidemark_main since " + a.acquiredAt() + "; its lease expires at "
                + a.expiresAt(), busy.getMessage());
        assertEquals(a.leaseId(), streams.acquire("main", acquireBody("db1:4242", "tidemark_main", 30)).leaseId(),
                "the holder acquiring again keeps its lease");
        CatalogException bad = assertThrows(CatalogException.class,
                () -> streams.acquire("main", acquireBody("db2:77", LABEL, 30)));
        assertTrue(bad.getMessage().contains("replication slot's name"), bad.getMessage());
        clock.now = clock.now.plusSeconds(31); // the holder died: nothing renewed it
        BackupLease b = streams.acquire("main", acquireBody("db2:77", "tidemark_main", 30));
        assertEquals("db2:77", b.holder());
        CatalogException lost = assertThrows(CatalogException.class,
                () -> streams.heartbeat("main", heartbeatBody(a.leaseId(), 30)));
        assertTrue(lost.getMessage().contains("stream tidemark_main on db2:77"), lost.getMessage());
        assertTrue(streams.release("main", b.leaseId()));
        assertEquals(backup, leases.current(StanzaName.of("main")).orElseThrow(), "the backup lease is untouched");
    }
}
