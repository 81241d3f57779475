package io.tidemark.functions.job;

import com.fasterxml.jackson.databind.JsonNode;
import io.tidemark.events.layout.BackupLabelName;
import io.tidemark.events.layout.StanzaName;
import io.tidemark.functions.catalog.BackupLease;
import io.tidemark.functions.catalog.CatalogException;
import io.tidemark.functions.catalog.CatalogStore;
import io.tidemark.functions.catalog.Item;
import io.tidemark.functions.catalog.Keys;
import io.tidemark.functions.catalog.StanzaRequests;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Backup jobs in the catalog ({@code JOB#<id>} items). Every change is a compare-and-swap on the
 * item's revision, so whatever the queue delivers twice and however many nodes race:
 * <ul>
 *   <li>claim: {@code queued -> running} only while queued and before the deadline; one caller
 *       wins, every other one gets 409 with the job as it is. The winner asking again is answered
 *       200 (a retried request is not refused by itself);</li>
 *   <li>pass: a replica adds itself to {@code passedBy} of a queued job (idempotent);</li>
 *   <li>report: {@code running -> done | failed}, only by the holder; the same report again is 200;</li>
 *   <li>settle: a queued job past its deadline becomes {@code missed}, or
 *       {@code skipped-by-replica} when replicas had passed it; a running job whose holder no
 *       longer holds the stanza's backup lease (its agent died) becomes {@code failed}.</li>
 * </ul>
 * Reads are by key or one descending Query on {@code JOB#} (the ids start with their time).
 */
public final class JobService {

    public static final int DEFAULT_LIST = 10;
    public static final int MAX_LIST = 100;
    private static final Pattern HOLDER = Pattern.compile("[\\x21-\\x7E]{1,256}");
    private static final int MAX_ERROR = 2000;
    private static final int MAX_ATTEMPTS = 10;
    /** How long after its claim a running job may go without the backup lease (acquiring it). */
    static final java.time.Duration ABANDON_GRACE = java.time.Duration.ofMinutes(2);

    private final CatalogStore store;
    private final Clock clock;

    public JobService(CatalogStore store, Clock clock) {
        this.store = store;
        this.clock = clock;
    }

    /** Records a new queued job (a conditional create: ids never collide in practice, and never overwrite). */
    public Job record(Job job) {
        StanzaName stanza = StanzaName.of(job.stanza());
        if (!store.put(job.toItem(Keys.pk(stanza)).withRevision(), null)) {
            throw new IllegalStateException("job " + job.id() + " of stanza " + stanza + " already exists");
        }
        return job;
    }

    /** The newest {@code limit} jobs, newest first; overdue queued jobs are settled on the way. */
    public List<Job> recent(String stanzaText, int limit) {
        StanzaName stanza = StanzaRequests.existingStanza(store, stanzaText);
        if (limit < 1 || limit > MAX_LIST) {
            throw CatalogException.badRequest("limit must be from 1 to " + MAX_LIST);
        }
        List<Job> out = new ArrayList<>();
        for (Item i : store.queryPage(Keys.pk(stanza), Keys.JOB_PREFIX, Keys.JOB_PREFIX + "~", true, limit)) {
            out.add(settle(stanza, i));
        }
        return out;
    }

    /** {@code POST .../claim}, body {@code {"holder"}}. */
    public Job claim(String stanzaText, String id, byte[] body) {
        StanzaName stanza = StanzaRequests.existingStanza(store, stanzaText);
        String holder = holder(StanzaRequests.jsonObject(body));
        return change(stanza, id, (job, now) -> {
            JobState state = job.stateAt(now);
            if (state == JobState.RUNNING && holder.equals(job.holder())) {
                return job; // the same claim again
            }
            if (state != JobState.QUEUED) {
                throw new JobConflictException(job.withState(state, job.finishedAt()), "job " + id + " is " + state.text()
                        + (job.holder() == null ? "" : " (claimed by " + job.holder() + ")") + ": not claimed");
            }
            return job.claimedBy(holder, now);
        });
    }

    /** {@code POST .../pass}, body {@code {"holder"}}: a replica saw the job and left it for the primary. */
    public Job pass(String stanzaText, String id, byte[] body) {
        StanzaName stanza = StanzaRequests.existingStanza(store, stanzaText);
        String holder = holder(StanzaRequests.jsonObject(body));
        return change(stanza, id, (job, now) -> {
            if (job.passedBy().contains(holder)) {
                return job;
            }
            // Recorded whatever the state: "who saw it" stays true after a primary took it.
            return job.passedBy(holder);
        });
    }

    /**
     * {@code POST .../report}, body {@code {"holder", "result": "done"|"failed", "label",
     * "originalSize", "storedSize", "durationMs", "error"}}: done needs the backup label, failed
     * needs the error.
     */
    public Job report(String stanzaText, String id, byte[] body) {
        StanzaName stanza = StanzaRequests.existingStanza(store, stanzaText);
        JsonNode json = StanzaRequests.jsonObject(body);
        String holder = holder(json);
        JobState result = switch (json.path("result").asText("")) {
            case "done" -> JobState.DONE;
            case "failed" -> JobState.FAILED;
            default -> throw CatalogException.badRequest("result must be \"done\" or \"failed\"");
        };
        String label = optionalText(json, "label");
        if (label != null) {
            try {
                label = BackupLabelName.parse(label).toString();
            } catch (IllegalArgumentException e) {
                throw CatalogException.badRequest("label: " + e.getMessage());
            }
        }
        if (result == JobState.DONE && label == null) {
            throw CatalogException.badRequest("a done report needs the backup label");
        }
        String error = optionalText(json, "error");
        if (result == JobState.FAILED && (error == null || error.isBlank())) {
            throw CatalogException.badRequest("a failed report needs the error");
        }
        if (error != null && error.length() > MAX_ERROR) {
            error = error.substring(0, MAX_ERROR) + "...";
        }
        Long originalSize = size(json, "originalSize");
        Long storedSize = size(json, "storedSize");
        Long durationMs = size(json, "durationMs");
        String finalLabel = label;
        String finalError = error;
        return change(stanza, id, (job, now) -> {
            if (job.state() == result && holder.equals(job.holder())) {
                return job; // the same report again
            }
            if (job.state() != JobState.RUNNING || !holder.equals(job.holder())) {
                throw new JobConflictException(job, "job " + id + " is " + job.stateAt(now).text()
                        + (job.holder() == null ? ", claimed by nobody" : ", claimed by " + job.holder())
                        + ": " + holder + " cannot report it");
            }
            return job.finished(result, now, finalLabel, originalSize, storedSize, durationMs, finalError);
        });
    }

    /** A job the scheduler recorded but could not deliver: failed, with why. */
    public Job undelivered(Job job, String error) {
        return change(StanzaName.of(job.stanza()), job.id(), (current, now) -> current.state() == JobState.QUEUED
                ? current.finished(JobState.FAILED, now, null, null, null, null, "not delivered to the nodes: " + error)
                : current);
    }

    /** One job by id, settled. */
    public Optional<Job> get(StanzaName stanza, String id) {
        return store.get(Keys.pk(stanza), Keys.job(id)).map(i -> settle(stanza, i));
    }

    private Job settle(StanzaName stanza, Item item) {
        Job job = Job.fromItem(item);
        Instant now = now();
        JobState effective = job.stateAt(now);
        Job settled;
        if (effective != job.state()) {
            settled = job.withState(effective, job.deadline());
        } else if (takenOverFrom(stanza, job).isPresent()) {
            BackupLease.Takeover t = takenOverFrom(stanza, job).get();
            settled = job.finished(JobState.FAILED, now, null, null, null, null, "the agent " + job.holder()
                    + " died while the backup ran (" + t.reason() + "); the next backup on its host took the lease over at "
                    + t.at() + " and resumes what it uploaded");
        } else if (abandoned(stanza, job, now)) {
            settled = job.finished(JobState.FAILED, now, null, null, null, null, "the agent " + job.holder()
                    + " stopped reporting while the backup ran: it holds no backup lease (expired or released"
                    + " without a report); the next backup resumes what it uploaded");
        } else {
            return job;
        }
        if (store.put(settled.toItem(Keys.pk(stanza)).withRevision(), item.revision())) {
            return settled;
        }
        // Someone changed it meanwhile (a pass, a claim just in time): what is stored now wins.
        return store.get(Keys.pk(stanza), item.sk()).map(Job::fromItem).orElse(settled);
    }

    /**
     * A running job whose holder's lease was taken over: its host proved the holder's process dead
     * (see {@code BackupLeaseService}), so the job failed; no grace needed. One GetItem.
     */
    private Optional<BackupLease.Takeover> takenOverFrom(StanzaName stanza, Job job) {
        if (job.state() != JobState.RUNNING || job.holder() == null || job.drill()) {
            return Optional.empty();
        }
        return store.get(Keys.pk(stanza), Keys.BACKUP_LEASE).map(BackupLease::fromItem).map(BackupLease::takeover)
                .filter(t -> t.holder().equals(job.holder()) && job.claimedAt() != null && job.claimedAt().isBefore(t.at()));
    }

    /**
     * A running job whose agent died: claimed more than {@link #ABANDON_GRACE} ago (time to take
     * the backup lease after the claim), and the stanza's backup lease is not held by the job's
     * holder (the agent runs the backup in its own process, under its own holder name, and renews
     * the lease while it runs). One GetItem per running job listed. A drill job takes no backup lease
 * (it restores elsewhere, on a replica or a spare host): never settled this way.
     */
    private boolean abandoned(StanzaName stanza, Job job, Instant now) {
        if (job.state() != JobState.RUNNING || job.claimedAt() == null || job.holder() == null || job.drill()
                || !now.isAfter(job.claimedAt().plus(ABANDON_GRACE))) {
            return false;
        }
        Optional<BackupLease> lease = store.get(Keys.pk(stanza), Keys.BACKUP_LEASE).map(BackupLease::fromItem);
        if (lease.isEmpty() || !lease.get().holder().equals(job.holder())) {
            return true;
        }
        BackupLease l = lease.get();
        if (l.heldAt(now)) {
            return false;
        }
        // released: the agent releases the lease, then reports; give the report time to arrive
        return !l.released() || l.releasedAt() == null || now.isAfter(l.releasedAt().plus(ABANDON_GRACE));
    }

    @FunctionalInterface
    private interface Change {
        Job apply(Job current, Instant now);
    }

    private Job change(StanzaName stanza, String id, Change change) {
        if (id == null || !Job.ID.matcher(id).matches()) {
            throw CatalogException.badRequest("job id must look like 20260101T010000Z-0123abcd, not '" + id + "'");
        }
        String pk = Keys.pk(stanza);
        for (int attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
            Optional<Item> current = store.get(pk, Keys.job(id));
            if (current.isEmpty()) {
                throw new CatalogException(CatalogException.Kind.NOT_FOUND, "no job " + id + " in stanza " + stanza);
            }
            Job job = Job.fromItem(current.get());
            Job next = change.apply(job, now());
            if (next.equals(job)) {
                return job;
            }
            if (store.put(next.toItem(pk).withRevision(), current.get().revision())) {
                return next;
            }
        }
        throw new IllegalStateException("could not change job " + id + " of " + stanza + ": too many concurrent changes");
    }

    private Instant now() {
        return clock.instant().truncatedTo(ChronoUnit.MILLIS);
    }

    private static String holder(JsonNode json) {
        JsonNode n = json.get("holder");
        if (n == null || !n.isTextual() || !HOLDER.matcher(n.asText()).matches()) {
            throw CatalogException.badRequest("holder must be 1 to 256 printable characters without spaces, such as"
                    + " <host>:<pid>");
        }
        return n.asText();
    }

    private static String optionalText(JsonNode json, String field) {
        JsonNode n = json.get(field);
        if (n == null || n.isNull()) {
            return null;
        }
        if (!n.isTextual()) {
            throw CatalogException.badRequest(field + " must be a string");
        }
        return n.asText();
    }

    private static Long size(JsonNode json, String field) {
        JsonNode n = json.get(field);
        if (n == null || n.isNull()) {
            return null;
        }
        if (!n.isIntegralNumber() || !n.canConvertToLong() || n.asLong() < 0) {
            throw CatalogException.badRequest(field + " must be a non-negative integer");
        }
        return n.asLong();
    }
}
