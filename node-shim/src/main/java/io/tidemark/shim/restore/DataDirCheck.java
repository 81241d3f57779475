package io.tidemark.shim.restore;

import io.tidemark.events.plan.RestorePlan;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * What the data directory must be before a restore writes to it: not in use by a running
 * PostgreSQL (a {@code postmaster.pid} naming a live process), not another cluster (the system
 * identifier in {@code global/pg_control} equals the plan's), and empty unless {@code --delta}
 * (an interrupted restore, recognisable by {@code PG_VERSION} without {@code global/pg_control},
 * is named as such: the way on is {@code --delta}).
 * Checked in that order, so that the most important reason is the one reported.
 */
public final class DataDirCheck {
    private DataDirCheck() {
    }

    public static void check(Path pgdata, RestorePlan plan, boolean delta) {
        if (!Files.exists(pgdata, LinkOption.NOFOLLOW_LINKS) && !Files.isSymbolicLink(pgdata)) {
            return;
        }
        if (!Files.isDirectory(pgdata)) {
            throw new RestoreRefused("PGDATA " + pgdata + " exists and is not a directory");
        }
        Optional<Long> pid = postmasterPid(pgdata);
        if (pid.isPresent() && ProcessHandle.of(pid.get()).map(ProcessHandle::isAlive).orElse(false)) {
            throw new RestoreRefused("PostgreSQL is running in " + pgdata + " (postmaster.pid names live process " + pid.get()
                    + "): stop it before restoring");
        }
        Optional<String> sysid = systemIdentifier(pgdata);
        if (sysid.isPresent() && !sysid.get().equals(plan.systemIdentifier())) {
            throw new RestoreRefused(pgdata + " holds another cluster (system identifier " + sysid.get()
                    + "); the plan restores stanza " + plan.stanza() + " (system identifier " + plan.systemIdentifier()
                    + "): refusing to overwrite it. Restore into an empty directory");
        }
        if (!delta && sysid.isEmpty() && Files.isRegularFile(pgdata.resolve("PG_VERSION"), LinkOption.NOFOLLOW_LINKS)) {
            // A restore writes global/pg_control last: PG_VERSION without it is one that was interrupted.
            throw new RestoreRefused("PGDATA " + pgdata + " holds an incomplete restore (PG_VERSION but no global/pg_control:"
                    + " an earlier restore was interrupted): run the restore again with --delta to keep the files it wrote"
                    + " and fetch the rest, or restore into an empty directory");
        }
        if (!delta && !isEmpty(pgdata)) {
            throw new RestoreRefused("PGDATA " + pgdata + " is not empty: restore into an empty directory, or use --delta"
                    + " to keep its files that match the backup (everything else in it is removed)");
        }
    }

    static boolean isEmpty(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.findAny().isEmpty();
        } catch (IOException e) {
            throw new RestoreRefused("cannot list " + dir + ": " + e.getMessage(), e);
        }
    }

    static Optional<Long> postmasterPid(Path pgdata) {
        Path f = pgdata.resolve("postmaster.pid");
        if (!Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)) {
            return Optional.empty();
        }
        try {
            String first = Files.readString(f, StandardCharsets.ISO_8859_1).lines().findFirst().orElse("").strip();
            return first.matches("-?[0-9]{1,10}") ? Optional.of(Math.abs(Long.parseLong(first))) : Optional.empty();
        } catch (IOException e) {
            throw new RestoreRefused("cannot read " + f + ": " + e.getMessage(), e);
        }
    }

    /**
     * The system identifier in {@code global/pg_control}: its first 8 bytes, an unsigned 64-bit
     * integer in the machine's byte order (little-endian on x86-64 and arm64).
     */
    static Optional<String> systemIdentifier(Path pgdata) {
        Path f = pgdata.resolve("global").resolve("pg_control");
        if (!Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)) {
            return Optional.empty();
        }
        try (InputStream in = Files.newInputStream(f, LinkOption.NOFOLLOW_LINKS)) {
            byte[] b = in.readNBytes(8);
            if (b.length < 8) {
                throw new RestoreRefused(f + " is too short to be a pg_control file");
            }
            long id = ByteBuffer.wrap(b).order(ByteOrder.nativeOrder()).getLong();
            return Optional.of(Long.toUnsignedString(id));
        } catch (IOException e) {
            throw new RestoreRefused("cannot read " + f + ": " + e.getMessage(), e);
        }
    }
}
