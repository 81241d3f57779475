package io.tidemark.shim.archiveget;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tidemark.events.layout.StanzaName;
import io.tidemark.events.wal.WalSegmentName;
import io.tidemark.events.wal.WalSegmentSize;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.Optional;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@Tag("unit")
class PrefetchSpoolTest {
    private static final WalSegmentSize MB16 = WalSegmentSize.DEFAULT;

    @TempDir
    Path dir;

    private static WalSegmentName seg(String name) {
        return WalSegmentName.parse(name, MB16);
    }

    @Test
    void nextNamesCrossTheLogBoundaryOnTheSameTimeline() {
        assertEquals("0000000200000000000000FF", seg("0000000200000000000000FE").next().toString());
        assertEquals("000000020000000100000000", seg("0000000200000000000000FF").next().toString());
    }

    @Test
    void aLivePidWrittenInTheLastMinuteWithoutTheLockIsAPrefetcherStarting() throws Exception {
        PrefetchSpool s = PrefetchSpool.open(dir.resolve("spool"), StanzaName.of("main")).orElseThrow();
        Path pid = s.dir().resolve(PrefetchSpool.PID);
        assertFalse(s.starting(), "no .pid");
        Files.writeString(pid, ProcessHandle.current().pid() + "\n");
        assertTrue(s.starting(), "a live pid, just written, no lock: the launcher's prefetcher starting");
        Files.setLastModifiedTime(pid, FileTime.from(Instant.now().minusSeconds(61)));
        assertFalse(s.starting(), "a minute old: a reused pid, not a start");
        Files.writeString(pid, ProcessHandle.current().pid() + "\n");
        try (java.nio.channels.FileChannel lock = s.tryLock().orElseThrow()) {
            assertFalse(s.starting(), "locked: it runs");
        }
        Process dead = new ProcessBuilder("true").start();
        dead.waitFor();
        Files.writeString(pid, dead.pid() + "\n");
        assertFalse(s.starting(), "a dead pid");
    }

    @Test
    void windowIsBoundedBySpoolSize() {
        assertEquals(8, Prefetcher.window(8, 256, MB16));
        assertEquals(4, Prefetcher.window(8, 64, MB16));
        assertEquals(0, Prefetcher.window(8, 8, MB16));
        assertEquals(8, Prefetcher.window(8, 8, WalSegmentSize.ofMegabytes(1)));
        // 1 GB segments under the default bound for them (ShimConfig.prefetchSpoolMaxMb: two segments)
        assertEquals(2, Prefetcher.window(8, 2048, WalSegmentSize.ofMegabytes(1024)));
        assertEquals(0, Prefetcher.window(8, 256, WalSegmentSize.ofMegabytes(1024)), "a bound set below one segment");
    }

    @Test
    void servesOnlyCompleteFilesAndCleansWhatRecoveryPassed() throws IOException, InterruptedException {
        PrefetchSpool s = PrefetchSpool.open(dir.resolve("spool"), StanzaName.of("main")).orElseThrow();
        assertEquals(dir.resolve("spool/main/prefetch"), s.dir());
        assertEquals("rwx------", java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(s.dir())));
        s.noteBoot();
        for (String n : new String[] {"000000010000000000000003", "000000010000000000000004", "000000010000000000000005",
                "000000020000000000000004"}) {
            s.put(seg(n), n.getBytes());
        }
        Path tmp = s.dir().resolve(".000000010000000000000006.tidemark.123.tmp");
        Files.writeString(tmp, "half");
        Files.setLastModifiedTime(tmp, FileTime.from(Instant.now().minusSeconds(3600)));
        Path fresh = s.dir().resolve(".000000010000000000000007.tidemark." + ProcessHandle.current().pid() + ".tmp");
        Files.writeString(fresh, "being written");
        Process gone = new ProcessBuilder("true").start();
        gone.waitFor();
        Path killed = s.dir().resolve(".000000010000000000000008.tidemark." + gone.pid() + ".tmp");
        Files.writeString(killed, "its writer was killed a moment ago");

        Path target = Files.createDirectories(dir.resolve("pg_wal")).resolve("RECOVERYXLOG");
        assertFalse(s.takeInto(seg("000000010000000000000006"), target, Optional.empty()), "a temp file is never served");
        assertTrue(s.takeInto(seg("000000010000000000000004"), target, Optional.empty()));
        assertArrayEquals("000000010000000000000004".getBytes(), Files.readAllBytes(target));
        assertFalse(s.has(seg("000000010000000000000004")), "moved, not copied");

        s.noteRequested(seg("000000010000000000000005"));
        assertEquals(Optional.of(seg("000000010000000000000005")), s.requested(MB16));
        assertEquals(2, s.cleanup(seg("000000010000000000000005")), "segments 3 (TLI 1) and 4 (TLI 2) are behind");
        assertTrue(s.has(seg("000000010000000000000005")));
        assertFalse(Files.exists(tmp), "a stale temp file is removed");
        assertTrue(Files.exists(fresh), "a temp file being written stays");
        assertFalse(Files.exists(killed), "a fresh temp file of a dead process goes at once");
    }

    @Test
    void oneLockHolderAtATime() {
        PrefetchSpool s = PrefetchSpool.open(dir, StanzaName.of("main")).orElseThrow();
        var held = s.tryLock().orElseThrow();
        assertTrue(s.locked());
        assertTrue(s.tryLock().isEmpty());
        try {
            held.close();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        assertFalse(s.locked());
    }

    @Test
    void aSpoolOwnedByAnotherUserOrBehindALinkIsNotUsed() throws IOException {
        Path real = Files.createDirectories(dir.resolve("real"));
        Files.createSymbolicLink(dir.resolve("link"), real);
        Files.createDirectories(dir.resolve("spool2"));
        Files.createSymbolicLink(dir.resolve("spool2/main"), real);
        assertTrue(PrefetchSpool.open(dir.resolve("spool2"), StanzaName.of("main")).isEmpty());
    }

    @Test
    void missingMarkersHoldTheirExpiryAndGoWithTheSpool() throws IOException {
        PrefetchSpool s = PrefetchSpool.open(dir.resolve("spool"), StanzaName.of("main")).orElseThrow();
        Instant until = Instant.ofEpochSecond(Instant.now().getEpochSecond() + 2);
        s.noteMissing("00000002.history", until, "0b6c2f1e-8f0e-4a53-9d2a-5b8c1d2e3f40");
        s.noteMissing("000000010000000000000009", until, "0b6c2f1e-8f0e-4a53-9d2a-5b8c1d2e3f40");
        assertEquals(Optional.of(until), s.missingUntil("00000002.history"));
        // the launcher reads this exact form: decimal epoch seconds and the plan's id on one line
        assertEquals(until.getEpochSecond() + " 0b6c2f1e-8f0e-4a53-9d2a-5b8c1d2e3f40\n",
                Files.readString(s.dir().resolve(".missing.00000002.history")));
        s.clearMissing("00000002.history");
        assertEquals(Optional.empty(), s.missingUntil("00000002.history"));
        s.put(seg("000000010000000000000008"), new byte[] {1});
        s.clear();
        assertEquals(Optional.empty(), s.missingUntil("000000010000000000000009"), "markers leave with the prefetcher");
        assertFalse(s.has(seg("000000010000000000000008")));
        try (var files = Files.list(s.dir())) {
            assertTrue(files.noneMatch(f -> f.getFileName().toString().endsWith(".tmp")), "no temp file left");
        }
    }

    @Test
    void aSegmentIsServedWithAPlanOnlyWhileTheSpoolIsBoundToThatPlan() throws IOException {
        PrefetchSpool s = PrefetchSpool.open(dir.resolve("spool"), StanzaName.of("main")).orElseThrow();
        s.noteBoot(); // as a prefetcher does before it spools anything
        Path target = Files.createDirectories(dir.resolve("pg_wal")).resolve("RECOVERYXLOG");
        Optional<String> a = Optional.of("aaaaaaaa-0000-4000-8000-000000000001");
        Optional<String> b = Optional.of("bbbbbbbb-0000-4000-8000-000000000002");
        WalSegmentName five = seg("000000010000000000000005");
        s.put(five, new byte[] {5});
        assertFalse(s.takeInto(five, target, a), "unbound: served to no plan");
        assertTrue(s.has(five));
        String line = s.bind(a);
        assertTrue(line.startsWith(a.get() + " "), line);
        // the launcher reads this exact form: the plan's id, a space, the session
        assertEquals(line + "\n", Files.readString(s.dir().resolve(PrefetchSpool.PLAN)));
        assertEquals(line, s.binding());
        assertFalse(s.takeInto(five, target, b), "verified against plan a: never served to plan b");
        assertTrue(s.has(five));
        assertTrue(s.takeInto(five, target, Optional.empty()), "plan-less (a standby) as before");
        s.put(five, new byte[] {5});
        assertTrue(s.takeInto(five, target, a));
        assertFalse(line.equals(s.bind(a)), "each session binds with its own line");
        assertTrue(s.bind(Optional.empty()).startsWith(PrefetchSpool.NO_PLAN + " "));

        // plan b's archive-get finds the spool another plan's: a new generation (that prefetcher
        // leaves, its files go); bound to b or to nothing, it changes nothing
        s.bind(a);
        s.put(five, new byte[] {5});
        String g = s.generation();
        assertFalse(s.leaveToPlan(a.get()));
        assertEquals(g, s.generation());
        assertTrue(s.leaveToPlan(b.get()));
        assertFalse(g.equals(s.generation()));
        assertFalse(s.has(five), "what plan a's prefetcher spooled goes");
        s.clear();
        assertEquals("", s.binding(), "the binding leaves with the prefetcher");
        assertFalse(s.leaveToPlan(b.get()), "nothing bound: nothing to replace");
    }

    @Test
    void aNewGenerationIsVisibleAndTheLockCanBeAwaited() throws Exception {
        PrefetchSpool s = PrefetchSpool.open(dir.resolve("spool"), StanzaName.of("main")).orElseThrow();
        assertEquals("", s.generation());
        s.newGeneration();
        String g = s.generation();
        assertEquals(36, g.length(), g);
        s.newGeneration();
        assertFalse(g.equals(s.generation()), "each restore writes a new one");

        var held = s.tryLock().orElseThrow();
        assertFalse(s.waitUnlocked(java.time.Duration.ofMillis(100)), "held: not free within the wait");
        Thread releaser = new Thread(() -> {
            try {
                Thread.sleep(150);
                held.close();
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        });
        releaser.start();
        assertTrue(s.waitUnlocked(java.time.Duration.ofSeconds(5)), "free once the holder lets go");
        releaser.join();
    }
}
