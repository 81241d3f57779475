package io.tidemark.shim.backup;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tidemark.events.json.Json;
import io.tidemark.events.layout.BackupLabelName;
import io.tidemark.events.layout.StanzaName;
import io.tidemark.shim.api.ApiException;
import io.tidemark.shim.api.CatalogApi;
import io.tidemark.shim.cli.CommandFailure;
import io.tidemark.shim.cli.ExitCodes;
import java.io.IOException;
import java.io.PrintStream;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * The stanza's backup lease ({@code /stanzas/{stanza}/backup-lease}): acquired before
 * {@code pg_backup_start}, renewed every quarter of its TTL (default 60 s, {@code backup.lease-ttl})
 * on a daemon thread of its own, so slow uploads never delay it; released at the end (also after a
 * failure).
 *
 * <p>A holder killed with {@code kill -9} stops renewing: another host waits at most one TTL. On
 * the same host the next backup does not wait: the catalog's refusal names the holder's
 * {@link HolderIdentity}, this process checks it against {@code /proc}, and when the holder is
 * certainly dead it takes the lease over (the catalog accepts that only from the holder's host).
 *
 * <p>A backup must not run on without its lease: once the lease may have expired (no successful
 * renewal for most of a TTL) or was taken over, {@link #lost()} says why and the copy stops.
 */
final class LeaseKeeper implements AutoCloseable {
    private static final ObjectMapper MAPPER = Json.mapper();

    private final CatalogApi api;
    private final StanzaName stanza;
    private final String leaseId;
    private final PrintStream err;
    private final int ttlSeconds;
    private final long intervalNanos;
    private final LongSupplier nanoTime;
    private final ScheduledExecutorService heartbeat;
    /** Until when (nanoTime) the catalog confirmed the lease: the send time of the last good renewal plus the TTL. */
    private volatile long confirmedUntil;
    private volatile String lost;
    private volatile String lastError;

    LeaseKeeper(CatalogApi api, StanzaName stanza, String leaseId, PrintStream err, int ttlSeconds, long sentAt,
                LongSupplier nanoTime, boolean start) {
        this.api = api;
        this.stanza = stanza;
        this.leaseId = leaseId;
        this.err = err;
        this.ttlSeconds = ttlSeconds;
        this.nanoTime = nanoTime;
        this.intervalNanos = interval(ttlSeconds);
        this.confirmedUntil = sentAt + TimeUnit.SECONDS.toNanos(ttlSeconds);
        this.heartbeat = Executors.newSingleThreadScheduledExecutor(r -> Thread.ofPlatform().daemon()
                .name("tidemark-lease-heartbeat").unstarted(r));
        if (start) {
            heartbeat.scheduleWithFixedDelay(this::renew, intervalNanos, intervalNanos, TimeUnit.NANOSECONDS);
        }
    }

    /** A quarter of the TTL: three renewals may fail before the lease could expire. */
    static long interval(int ttlSeconds) {
        return Math.max(TimeUnit.SECONDS.toNanos(1), TimeUnit.SECONDS.toNanos(ttlSeconds) / 4);
    }

    /**
     * Acquires the lease, taking over one whose holder on this host is provably dead, or fails with
     * the catalog's message (exit 1) when another backup holds it.
     */
    static LeaseKeeper acquire(CatalogApi api, StanzaName stanza, String holder, Optional<HolderIdentity> me,
                               BackupLabelName label, int ttlSeconds, PrintStream err) {
        ObjectNode body = MAPPER.createObjectNode().put("holder", holder).put("label", label.toString())
                .put("ttlSeconds", ttlSeconds);
        me.ifPresent(i -> i.toJson(body.putObject("identity")));
        long sent = System.nanoTime();
        CatalogApi.Response r = post(api, stanza, body);
        if (r.status() == 409 && me.isPresent()) {
            JsonNode conflict = json(r);
            Optional<HolderIdentity> theirs = HolderIdentity.fromJson(conflict.get("identity"));
            Optional<String> dead = theirs.flatMap(t -> me.get().deadHolder(t));
            String oldId = conflict.path("leaseId").asText("");
            if (dead.isPresent() && !oldId.isEmpty()) {
                body.putObject("takeover").put("leaseId", oldId).put("reason", dead.get());
                sent = System.nanoTime();
                r = post(api, stanza, body);
                if (r.status() == 200) {
                    err.println("tidemark backup: took over the backup lease of " + conflict.path("holder").asText()
                            + " (backup " + conflict.path("label").asText() + "): " + dead.get());
                }
            }
        }
        if (r.status() == 409) {
            throw new CommandFailure(ExitCodes.FAILED, r.message());
        }
        if (r.status() != 200) {
            throw new CommandFailure(ExitCodes.FAILED, "the catalog refused the backup lease (HTTP " + r.status() + "): "
                    + r.message());
        }
        String id = json(r).path("leaseId").asText(null);
        if (id == null) {
            throw new CommandFailure(ExitCodes.FAILED, "the catalog's lease answer has no leaseId: " + r.body());
        }
        return new LeaseKeeper(api, stanza, id, err, ttlSeconds, sent, System::nanoTime, true);
    }

    private static CatalogApi.Response post(CatalogApi api, StanzaName stanza, ObjectNode body) {
        try {
            return api.acquireBackupLease(stanza, body.toString());
        } catch (ApiException e) {
            throw new CommandFailure(ExitCodes.FAILED, "cannot acquire the backup lease: " + e.getMessage(), e);
        }
    }

    private static JsonNode json(CatalogApi.Response r) {
        try {
            return MAPPER.readTree(r.body());
        } catch (IOException e) {
            throw new CommandFailure(ExitCodes.FAILED, "the catalog's lease answer is not JSON: " + e.getMessage(), e);
        }
    }

    /** One heartbeat (the daemon thread's task; tests call it directly). */
    void renew() {
        long sent = nanoTime.getAsLong();
        try {
            CatalogApi.Response r = api.renewBackupLease(stanza, MAPPER.createObjectNode().put("leaseId", leaseId)
                    .put("ttlSeconds", ttlSeconds).toString());
            if (r.status() == 200) {
                confirmedUntil = sent + TimeUnit.SECONDS.toNanos(ttlSeconds);
                lastError = null;
                return;
            }
            if (r.status() == 409) {
                lost = r.message();
                err.println("tidemark backup: the backup lease was lost: " + lost);
                heartbeat.shutdown();
                return;
            }
            lastError = "HTTP " + r.status() + ": " + r.message();
        } catch (RuntimeException e) {
            lastError = e.getMessage();
        }
        long left = confirmedUntil - nanoTime.getAsLong();
        if (left <= intervalNanos) {
            lost = "it could not be renewed for " + (ttlSeconds - TimeUnit.NANOSECONDS.toSeconds(Math.max(0, left)))
                    + " s of its " + ttlSeconds + " s (last error: " + lastError + ")";
            err.println("tidemark backup: the backup lease may expire: " + lost);
        } else {
            err.println("tidemark backup: warning: lease heartbeat failed (will retry): " + lastError);
        }
    }

    /**
     * Why the lease is no longer certainly ours (taken over after it expired, or not renewed for
     * most of its TTL), or null.
     */
    String lost() {
        if (lost == null && nanoTime.getAsLong() - confirmedUntil >= 0) {
            lost = "it expired without a renewal" + (lastError == null ? "" : " (last error: " + lastError + ")");
        }
        return lost;
    }

    @Override
    public void close() {
        heartbeat.shutdownNow();
        try {
            api.releaseBackupLease(stanza, leaseId);
        } catch (RuntimeException e) {
            err.println("tidemark backup: warning: cannot release the backup lease (it expires by itself): "
                    + e.getMessage());
        }
    }
}
