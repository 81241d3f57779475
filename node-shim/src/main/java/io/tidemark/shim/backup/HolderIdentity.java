package io.tidemark.shim.backup;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Who holds a backup lease, precisely enough that a later backup on the same host can prove the
 * holder dead, as a kernel releases a dead process's {@code flock}:
 * <ul>
 *   <li>{@code host}: hostname, {@code /etc/machine-id} and the PID namespace: "the same host"
 *       means the same pids and the same {@code /proc} (a container in its own namespace is
 *       another host: it cannot see the holder's process);</li>
 *   <li>{@code bootId}: {@code /proc/sys/kernel/random/boot_id}: another one means the host
 *       rebooted since, so every process of the earlier boot is gone;</li>
 *   <li>{@code pid} and {@code startTicks}, field 22 of {@code /proc/<pid>/stat} (start time
 *       in clock ticks since boot): a pid the kernel reused for another process has another
 *       start time.</li>
 * </ul>
 */
record HolderIdentity(String host, String bootId, long pid, long startTicks) {

    private static final Path PROC = Path.of("/proc");

    /** This process; empty where there is no Linux {@code /proc} (then no takeover: leases expire). */
    static Optional<HolderIdentity> current() {
        return of(PROC, hostname(), ProcessHandle.current().pid());
    }

    static Optional<HolderIdentity> of(Path proc, String hostname, long pid) {
        try {
            String boot = Files.readString(proc.resolve("sys/kernel/random/boot_id"), StandardCharsets.US_ASCII).strip();
            OptionalLong start = startTicks(proc, pid);
            if (start.isEmpty() || !boot.matches("[0-9a-f-]{8,64}")) {
                return Optional.empty();
            }
            String machine = "";
            try {
                machine = Files.readString(Path.of("/etc/machine-id"), StandardCharsets.US_ASCII).strip();
            } catch (IOException e) {
                // not every system has one: hostname and namespace then
            }
            String pidNs = "";
            try {
                pidNs = Files.readSymbolicLink(proc.resolve("self/ns/pid")).toString().replaceAll("\\D", "");
            } catch (IOException | UnsupportedOperationException e) {
                // old kernels: hostname and machine id then
            }
            String host = (hostname + "/" + machine + "/" + pidNs).replaceAll("[^\\x21-\\x7E]", "_");
            return Optional.of(new HolderIdentity(host.length() > 256 ? host.substring(0, 256) : host, boot, pid,
                    start.getAsLong()));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /**
     * Field 22 of {@code /proc/<pid>/stat}, or empty when there is no such process or it has
     * exited and only waits for its parent to reap it (state Z or X: it holds nothing any more).
     */
    static OptionalLong startTicks(Path proc, long pid) throws IOException {
        String stat;
        try {
            stat = Files.readString(proc.resolve(pid + "/stat"), StandardCharsets.US_ASCII);
        } catch (NoSuchFileException e) {
            return OptionalLong.empty();
        }
        // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so count after the last ')'.
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).trim().split(" ");
        if (f[0].equals("Z") || f[0].equals("X")) {
            return OptionalLong.empty();
        }
        return OptionalLong.of(Long.parseLong(f[22 - 3]));
    }

    /**
     * Why {@code holder} is certainly dead, seen from this process (same host), or empty when it
     * may be alive (or is not on this host: then only its lease's expiry tells).
     */
    Optional<String> deadHolder(HolderIdentity holder, Path proc) {
        if (!holder.host().equals(host)) {
            return Optional.empty();
        }
        if (!holder.bootId().equals(bootId)) {
            return Optional.of("the host rebooted since process " + holder.pid() + " took the lease (boot id "
                    + holder.bootId() + ", now " + bootId + ")");
        }
        if (holder.pid() == pid && holder.startTicks() == startTicks) {
            return Optional.empty();
        }
        try {
            OptionalLong now = startTicks(proc, holder.pid());
            if (now.isEmpty()) {
                return Optional.of("process " + holder.pid() + " is gone");
            }
            if (now.getAsLong() != holder.startTicks()) {
                return Optional.of("pid " + holder.pid() + " now belongs to another process (started at tick "
                        + now.getAsLong() + ", the holder at " + holder.startTicks() + ")");
            }
            return Optional.empty();
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    Optional<String> deadHolder(HolderIdentity holder) {
        return deadHolder(holder, PROC);
    }

    ObjectNode toJson(ObjectNode n) {
        return n.put("host", host).put("bootId", bootId).put("pid", pid).put("startTicks", startTicks);
    }

    static Optional<HolderIdentity> fromJson(JsonNode n) {
        if (n == null || !n.isObject() || !n.path("host").isTextual() || !n.path("bootId").isTextual()
                || !n.path("pid").canConvertToLong() || !n.path("startTicks").canConvertToLong()) {
            return Optional.empty();
        }
        return Optional.of(new HolderIdentity(n.get("host").asText(), n.get("bootId").asText(), n.get("pid").asLong(),
                n.get("startTicks").asLong()));
    }

    /** The kernel's hostname first: the same for every process of the host, whatever its environment says. */
    static String hostname() {
        String host;
        try {
            host = Files.readString(Path.of("/proc/sys/kernel/hostname"), StandardCharsets.US_ASCII).strip();
        } catch (IOException e) {
            host = System.getenv("HOSTNAME");
        }
        if (host == null || host.isBlank()) {
            try {
                host = InetAddress.getLocalHost().getHostName();
            } catch (IOException e) {
                host = "localhost";
            }
        }
        return host;
    }
}
