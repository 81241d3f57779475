package io.tidemark.shim.backup;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tidemark.events.json.Json;
import io.tidemark.events.layout.BackupLabelName;
import io.tidemark.events.layout.StanzaName;
import io.tidemark.shim.api.ApiException;
import io.tidemark.shim.api.CatalogApi;
import io.tidemark.shim.api.LeaseKeeper;
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
final class BackupLease implements AutoCloseable {
    private static final ObjectMapper MAPPER = Json.mapper();

    private final LeaseKeeper keeper;
    private final PrintStream err;
    private final int ttlSeconds;
    private final long intervalNanos;
    private final ScheduledExecutorService heartbeat;
    private volatile String lost;
    private volatile String lastError;

    BackupLease(CatalogApi api, StanzaName stanza, String leaseId, PrintStream err, int ttlSeconds, long sentAt,
                LongSupplier nanoTime, boolean start) {
        this(held(new LeaseKeeper(api, CatalogApi.Lease.BACKUP, stanza, ttlSeconds, nanoTime), leaseId, sentAt), err,
                start);
    }

    private BackupLease(LeaseKeeper keeper, PrintStream err, boolean start) {
        this.keeper = keeper;
        this.err = err;
        this.ttlSeconds = keeper.ttlSeconds();
        this.intervalNanos = interval(ttlSeconds);
        this.heartbeat = Executors.newSingleThreadScheduledExecutor(r -> Thread.ofPlatform().daemon()
                .name("tidemark-lease-heartbeat").unstarted(r));
        if (start) {
            heartbeat.scheduleWithFixedDelay(this::renew, intervalNanos, intervalNanos, TimeUnit.NANOSECONDS);
        }
    }

    private static LeaseKeeper held(LeaseKeeper keeper, String leaseId, long sentAt) {
        keeper.hold(leaseId, sentAt);
        return keeper;
    }

    /** A quarter of the TTL: three renewals may fail before the lease could expire. */
    static long interval(int ttlSeconds) {
        return Math.max(TimeUnit.SECONDS.toNanos(1), TimeUnit.SECONDS.toNanos(ttlSeconds) / 4);
    }

    /**
     * Acquires the lease, taking over one whose holder on this host is provably dead, or fails with
     * the catalog's message (exit 1) when another backup holds it.
     */
    static BackupLease acquire(CatalogApi api, StanzaName stanza, String holder, Optional<HolderIdentity> me,
                               BackupLabelName label, int ttlSeconds, PrintStream err) {
        LeaseKeeper keeper = new LeaseKeeper(api, CatalogApi.Lease.BACKUP, stanza, ttlSeconds, System::nanoTime);
        ObjectNode body = MAPPER.createObjectNode().put("holder", holder).put("label", label.toString())
                .put("ttlSeconds", ttlSeconds);
        me.ifPresent(i -> i.toJson(body.putObject("identity")));
        CatalogApi.Response r = post(keeper, body);
        if (r.status() == 409 && me.isPresent()) {
            JsonNode conflict = json(r);
            Optional<HolderIdentity> theirs = HolderIdentity.fromJson(conflict.get("identity"));
            Optional<String> dead = theirs.flatMap(t -> me.get().deadHolder(t));
            String oldId = conflict.path("leaseId").asText("");
            if (dead.isPresent() && !oldId.isEmpty()) {
                body.putObject("takeover").put("leaseId", oldId).put("reason", dead.get());
                r = post(keeper, body);
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
        if (!keeper.held()) {
            throw new CommandFailure(ExitCodes.FAILED, "the catalog's lease answer has no leaseId: " + r.body());
        }
        return new BackupLease(keeper, err, true);
    }

    private static CatalogApi.Response post(LeaseKeeper keeper, ObjectNode body) {
        try {
            // an answer without an id holds nothing: refused below, after the takeover is reported
            return keeper.acquire(body.toString(), ok -> json(ok).path("leaseId").asText(null));
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
        switch (keeper.renew()) {
            case LeaseKeeper.Renewal.Renewed ok -> {
                lastError = null;
                return;
            }
            case LeaseKeeper.Renewal.Refused taken -> {
                lost = taken.message();
                err.println("tidemark backup: the backup lease was lost: " + lost);
                heartbeat.shutdown();
                return;
            }
            case LeaseKeeper.Renewal.Unanswered failed -> lastError = failed.error();
        }
        long left = keeper.leftNanos();
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
        if (lost == null && keeper.leftNanos() <= 0) {
            lost = "it expired without a renewal" + (lastError == null ? "" : " (last error: " + lastError + ")");
        }
        return lost;
    }

    @Override
    public void close() {
        heartbeat.shutdownNow();
        try {
            keeper.release();
        } catch (RuntimeException e) {
            err.println("tidemark backup: warning: cannot release the backup lease (it expires by itself): "
                    + e.getMessage());
        }
    }
}
