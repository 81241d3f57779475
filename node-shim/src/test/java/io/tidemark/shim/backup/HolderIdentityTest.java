package io.tidemark.shim.backup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@Tag("unit")
class HolderIdentityTest {
    static final String BOOT = "0f4f1c2e-7d1a-4a53-9a8e-1f2b3c4d5e6f";

    @TempDir
    Path proc;

    void process(long pid, long startTicks) throws IOException {
        process(pid, startTicks, "S");
    }

    void process(long pid, long startTicks, String state) throws IOException {
        Files.createDirectories(proc.resolve(String.valueOf(pid)));
        // comm with a space and a ')' as PostgreSQL-like names can have: fields are counted after the last ')'
        Files.writeString(proc.resolve(pid + "/stat"), pid + " (java (x) y) " + state + " 1 " + pid + " " + pid
                + " 0 -1 4194304 100 0 0 0 5 3 0 0 20 0 30 0 " + startTicks + " 123456 789 18446744073709551615\n");
    }

    HolderIdentity me() throws IOException {
        Files.createDirectories(proc.resolve("sys/kernel/random"));
        Files.writeString(proc.resolve("sys/kernel/random/boot_id"), BOOT + "\n");
        process(100, 5000);
        return HolderIdentity.of(proc, "db1", 100).orElseThrow();
    }

    @Test
    void readsBootIdPidAndStartTimeField22() throws IOException {
        HolderIdentity me = me();
        assertEquals(BOOT, me.bootId());
        assertEquals(100, me.pid());
        assertEquals(5000, me.startTicks());
        assertTrue(me.host().startsWith("db1/"), me.host());
    }

    @Test
    void theSameHostProvesItsEarlierHolderDead() throws IOException {
        HolderIdentity me = me();
        assertEquals(Optional.of("process 200 is gone"),
                me.deadHolder(new HolderIdentity(me.host(), BOOT, 200, 4000), proc));
        process(200, 4500);
        assertEquals(Optional.of("pid 200 now belongs to another process (started at tick 4500, the holder at 4000)"),
                me.deadHolder(new HolderIdentity(me.host(), BOOT, 200, 4000), proc));
        assertEquals(Optional.empty(), me.deadHolder(new HolderIdentity(me.host(), BOOT, 200, 4500), proc),
                "that process is alive: no takeover");
        process(300, 4600, "Z");
        assertEquals(Optional.of("process 300 is gone"), me.deadHolder(new HolderIdentity(me.host(), BOOT, 300, 4600), proc),
                "killed, not yet reaped by its parent: it holds nothing");
        assertTrue(me.deadHolder(new HolderIdentity(me.host(), "1111-2222-3333", 200, 4500), proc).orElseThrow()
                .startsWith("the host rebooted since process 200 took the lease"));
        assertEquals(Optional.empty(), me.deadHolder(me, proc), "never itself");
    }

    @Test
    void anotherHostProvesNothing() throws IOException {
        HolderIdentity me = me();
        assertEquals(Optional.empty(), me.deadHolder(new HolderIdentity("db2/x/1", BOOT, 200, 4000), proc));
        assertEquals(Optional.empty(), me.deadHolder(new HolderIdentity("db2/x/1", "other-boot", 200, 4000), proc));
    }

    @Test
    void thisProcessOnLinux() {
        if (Files.isReadable(Path.of("/proc/self/stat"))) {
            HolderIdentity me = HolderIdentity.current().orElseThrow();
            assertEquals(ProcessHandle.current().pid(), me.pid());
            assertEquals(Optional.empty(), me.deadHolder(me));
        }
    }
}
