package io.tidemark.shim.archiveget;

import com.fasterxml.jackson.databind.JsonNode;
import io.tidemark.events.json.Json;
import io.tidemark.events.plan.PlanWal;
import io.tidemark.events.plan.PlanWalRange;
import io.tidemark.events.plan.RestorePlan;
import io.tidemark.events.wal.TimelineId;
import io.tidemark.events.wal.WalSegmentName;
import io.tidemark.events.wal.WalSegmentSize;
import io.tidemark.shim.cli.CommandFailure;
import io.tidemark.shim.config.ShimConfig;
import io.tidemark.shim.restore.PlanVerifier;
import io.tidemark.shim.restore.RestoreCommand;
import io.tidemark.shim.restore.RestoreRefused;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The signed restore plan as WAL fetch sees it: which file names recovery needs and, for those
 * the plan lists, the key, size and SHA-256 they must have. {@code tidemark restore} leaves the
 * verified envelope in the data directory ({@link #FILE_NAME}, mode 600) and names it with
 * {@code --plan} on restore_command; archive-get and the prefetcher verify its signature again
 * with {@code plan.publicKey}, but not its expiry: recovery may outlast it.
 */
public final class WalPlan {
    /** The plan file restore writes into the data directory. */
    public static final String FILE_NAME = "tidemark-restore-plan.json";

    private final RestorePlan plan;
    private final Path file;
    private final Map<String, PlanWal> byName = new HashMap<>();
    /** The timelines of the plan's segments, newest first. */
    private final List<TimelineId> timelines;

    WalPlan(RestorePlan plan, Path file) {
        this.plan = plan;
        this.file = file;
        plan.wal().forEach(w -> byName.put(w.name(), w));
        java.util.TreeSet<TimelineId> t = new java.util.TreeSet<>(java.util.Comparator.reverseOrder());
        plan.wal().stream().map(PlanWal::name).filter(WalSegmentName::looksLikeSegment)
                .forEach(name -> t.add(TimelineId.parseHex(name.substring(0, 8))));
        plan.walRanges().forEach(r -> t.add(TimelineId.parseHex(r.first().substring(0, 8))));
        this.timelines = List.copyOf(t);
    }

    /** What the plan says of one file name. */
    public sealed interface Need permits Listed, Promised, Unplanned {
    }

    /** Listed with its key, stored size and SHA-256: served only when it matches them. */
    public record Listed(PlanWal wal) implements Need {
    }

    /** A segment inside the plan's WAL ranges but beyond its capped list: it must exist. */
    public record Promised(String name) implements Need {
    }

    /** Not part of the plan (a newer timeline's history, the segment after the end): may be absent. */
    public record Unplanned(String name) implements Need {
    }

    /**
     * Reads and verifies the plan file.
     *
     * @throws AbortRecovery when it cannot be read or verified: recovery cannot tell which WAL it needs
     */
    public static WalPlan load(Path file, ShimConfig config) {
        JsonNode envelope;
        try {
            envelope = Json.mapper().readTree(Files.readAllBytes(file));
        } catch (NoSuchFileException e) {
            throw new AbortRecovery("restore plan " + file + " does not exist; it lists the WAL this recovery needs"
                    + " (written by tidemark restore)");
        } catch (IOException e) {
            throw new AbortRecovery("cannot read restore plan " + file + ": " + e.getMessage()
                    + " (it must belong to the user PostgreSQL runs as)");
        }
        try {
            RestorePlan plan = PlanVerifier.verifyAnyAge(envelope, RestoreCommand.publicKey(config), config.stanza());
            return new WalPlan(plan, file);
        } catch (RestoreRefused | CommandFailure e) {
            throw new AbortRecovery("restore plan " + file + ": " + e.getMessage());
        }
    }

    public RestorePlan plan() {
        return plan;
    }

    public Path file() {
        return file;
    }

    /**
     * The plan's identity as the prefetch spool records it ({@link PrefetchSpool#bind}): its id,
     * unique to each plan the planner signs. {@code bin/tidemark} reads the same id from the start
     * of the plan file (the signed document's {@code planId}) to decide, without a JVM, whether a
     * spooled segment was verified against this plan.
     */
    public String id() {
        return plan.planId();
    }

    public WalSegmentSize segmentSize() {
        return plan.walSegmentSize();
    }

    public Need need(String fileName) {
        PlanWal w = byName.get(fileName);
        if (w != null) {
            return new Listed(w);
        }
        for (PlanWalRange r : plan.walRanges()) {
            if (r.holds(fileName)) {
                return new Promised(fileName);
            }
        }
        return new Unplanned(fileName);
    }

    /**
     * The segment recovery asks for after {@code n}: the next segment number on the newest of the
     * plan's later timelines that needs it (PostgreSQL reads each segment from the newest
     * timeline of its history that has begun by then), else on {@code n}'s own timeline.
     */
    public WalSegmentName after(WalSegmentName n) {
        WalSegmentName next = n.next();
        for (TimelineId t : timelines) {
            if (t.compareTo(n.timeline()) <= 0) {
                break;
            }
            WalSegmentName c = next.onTimeline(t);
            if (needs(c.toString())) {
                return c;
            }
        }
        return next;
    }

    /** Whether the plan needs {@code fileName}: then "not archived" is never an answer for it. */
    public boolean needs(String fileName) {
        return !(need(fileName) instanceof Unplanned);
    }

    /** Where restore leaves the plan for {@code pgdata}. */
    public static Path fileIn(Path pgdata) {
        return pgdata.toAbsolutePath().normalize().resolve(FILE_NAME);
    }

    /** The plan of {@code file} when one is named, else empty (plan-less mode: a standby's restore_command). */
    public static Optional<WalPlan> loadIfNamed(Optional<Path> file, ShimConfig config) {
        return file.map(f -> load(f, config));
    }
}
