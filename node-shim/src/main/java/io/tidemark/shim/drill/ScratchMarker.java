package io.tidemark.shim.drill;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tidemark.events.json.Json;
import io.tidemark.shim.quickstart.Exec;
import io.tidemark.shim.restore.Delta;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@code tidemark-drill.json} at the top of a drill's scratch directory: which drill made it, for
 * which job, from which process, and how to stop the server in it. It is what lets a later start
 * (of the agent, or of another drill) recognise a drill that was killed half-way, stop its server,
 * remove the directory and say why; a directory without it is never removed.
 */
public record ScratchMarker(String drillId, Optional<String> jobId, long pid, Instant startedAt, Path bin, String owner) {
    static final String FILE = "tidemark-drill.json";

    /** A drill found unfinished: its marker, and what cleaning it up did. */
    public record Leftover(ScratchMarker marker, String what) {
    }

    /**
     * Makes {@code scratch} this drill's (a leftover drill there was cleaned up before:
     * {@link #cleanLeftover}); anything else there is refused.
     *
     * @throws IllegalStateException the directory holds something that is not a drill's
     */
    static void claim(Path scratch, ScratchMarker marker) throws IOException {
        if (Files.exists(scratch, LinkOption.NOFOLLOW_LINKS)) {
            if (!Files.isDirectory(scratch, LinkOption.NOFOLLOW_LINKS)) {
                throw new IllegalStateException(scratch + " exists and is not a directory");
            }
            try (var s = Files.list(scratch)) {
                if (s.findAny().isPresent()) {
                    throw new IllegalStateException(scratch + " is not empty and holds no drill ("
                            + FILE + " is missing): refusing to use or remove it");
                }
            }
        } else {
            Files.createDirectories(scratch.getParent());
            Files.createDirectory(scratch, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        }
        Files.writeString(scratch.resolve(FILE), marker.toJson().toString(), StandardCharsets.UTF_8);
    }

    /**
     * When {@code scratch} holds an unfinished drill whose process is gone: stops its server
     * (immediate: the copy is thrown away) and removes the directory. Empty when there is none.
     *
     * @throws IllegalStateException the drill that made it still runs
     */
    public static Optional<Leftover> cleanLeftover(Path scratch) throws IOException {
        Optional<ScratchMarker> m = read(scratch);
        if (m.isEmpty()) {
            return Optional.empty();
        }
        ScratchMarker marker = m.get();
        if (marker.pid() != ProcessHandle.current().pid()
                && ProcessHandle.of(marker.pid()).map(ProcessHandle::isAlive).orElse(false)) {
            throw new IllegalStateException("drill " + marker.drillId() + " (process " + marker.pid() + ") is still running in "
                    + scratch);
        }
        Path pgdata = ScratchCluster.pgdata(scratch);
        String server = "no server was running";
        Optional<Long> pid = pid(pgdata);
        if (pid.isPresent() && ProcessHandle.of(pid.get()).map(ProcessHandle::isAlive).orElse(false)) {
            Exec.Result r = Exec.asOwner(marker.owner()).run(Path.of("/"), Map.of(), List.of(marker.bin().resolve("pg_ctl")
                    .toString(), "-D", pgdata.toString(), "-m", "immediate", "-w", "-t", "60", "stop"), 90);
            if (r.code() != 0 && ProcessHandle.of(pid.get()).map(ProcessHandle::isAlive).orElse(false)) {
                throw new IllegalStateException("cannot stop the server of unfinished drill " + marker.drillId() + " in " + pgdata
                        + ": " + r.both());
            }
            server = "its server (pid " + pid.get() + ") was stopped";
        }
        Delta.deleteTree(scratch);
        return Optional.of(new Leftover(marker, "drill " + marker.drillId() + " (process " + marker.pid() + ", started "
                + marker.startedAt() + ") did not finish: " + server + " and its scratch directory " + scratch + " removed"));
    }

    /** Removes a finished drill's scratch directory (only one with a marker). */
    static void remove(Path scratch) throws IOException {
        if (!Files.exists(scratch, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        if (read(scratch).isEmpty()) {
            throw new IOException(scratch + " holds no " + FILE + "; not removing it");
        }
        Delta.deleteTree(scratch);
    }

    static Optional<ScratchMarker> read(Path scratch) throws IOException {
        Path f = scratch.resolve(FILE);
        String text;
        try {
            text = Files.readString(f, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
        try {
            JsonNode n = Json.mapper().readTree(text);
            return Optional.of(new ScratchMarker(n.get("drillId").asText(),
                    n.hasNonNull("jobId") ? Optional.of(n.get("jobId").asText()) : Optional.empty(), n.get("pid").asLong(),
                    Instant.parse(n.get("startedAt").asText()), Path.of(n.get("bin").asText()), n.get("owner").asText()));
        } catch (IOException | RuntimeException e) {
            throw new IOException(f + " is not a drill marker: " + e.getMessage(), e);
        }
    }

    private static Optional<Long> pid(Path pgdata) {
        try {
            List<String> l = Files.readAllLines(pgdata.resolve("postmaster.pid"), StandardCharsets.UTF_8);
            return l.isEmpty() ? Optional.empty() : Optional.of(Long.parseLong(l.get(0).trim()));
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    ObjectNode toJson() {
        ObjectNode o = Json.mapper().createObjectNode();
        o.put("drillId", drillId);
        jobId.ifPresentOrElse(j -> o.put("jobId", j), () -> o.putNull("jobId"));
        o.put("pid", pid);
        o.put("startedAt", startedAt.toString());
        o.put("bin", bin.toString());
        o.put("owner", owner);
        return o;
    }
}
