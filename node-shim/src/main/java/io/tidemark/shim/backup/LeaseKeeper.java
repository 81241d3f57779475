package io.tidemark.shim.backup;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tidemark.events.layout.BackupLabelName;
import io.tidemark.events.layout.StanzaName;
import io.tidemark.shim.api.ApiException;
import io.tidemark.shim.api.CatalogApi;
import io.tidemark.shim.cli.CommandFailure;
import io.tidemark.shim.cli.ExitCodes;
import java.io.IOException;
import java.io.PrintStream;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The stanza's backup lease ({@code /stanzas/{stanza}/backup-lease}): acquired before
 * {@code pg_backup_start}, renewed every third of its TTL on a daemon thread, released at the end
 * (also after a failure). A holder that dies stops renewing and the lease expires.
 */
final class LeaseKeeper implements AutoCloseable {
    static final int TTL_SECONDS = 900;
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private final CatalogApi api;
    private final StanzaName stanza;
    private final String leaseId;
    private final PrintStream err;
    private final ScheduledExecutorService heartbeat;
    private volatile String lost;

    private LeaseKeeper(CatalogApi api, StanzaName stanza, String leaseId, PrintStream err, int ttlSeconds) {
        this.api = api;
        this.stanza = stanza;
        this.leaseId = leaseId;
        this.err = err;
        this.heartbeat = Executors.newSingleThreadScheduledExecutor(r -> Thread.ofPlatform().daemon()
                .name("tidemark-lease-heartbeat").unstarted(r));
        long every = Math.max(1, ttlSeconds / 3);
        heartbeat.scheduleAtFixedRate(() -> renew(ttlSeconds), every, every, TimeUnit.SECONDS);
    }

    /** Acquires the lease or fails with the catalog's message (exit 1) when another backup holds it. */
    static LeaseKeeper acquire(CatalogApi api, StanzaName stanza, String holder, BackupLabelName label, int ttlSeconds,
                               PrintStream err) {
        String body = MAPPER.createObjectNode().put("holder", holder).put("label", label.toString())
                .put("ttlSeconds", ttlSeconds).toString();
        CatalogApi.Response r;
        try {
            r = api.acquireBackupLease(stanza, body);
        } catch (ApiException e) {
            throw new CommandFailure(ExitCodes.FAILED, "cannot acquire the backup lease: " + e.getMessage(), e);
        }
        if (r.status() == 409) {
            throw new CommandFailure(ExitCodes.FAILED, r.message());
        }
        if (r.status() != 200) {
            throw new CommandFailure(ExitCodes.FAILED, "the catalog refused the backup lease (HTTP " + r.status() + "): "
                    + r.message());
        }
        try {
            JsonNode j = MAPPER.readTree(r.body());
            String id = j.path("leaseId").asText(null);
            if (id == null) {
                throw new CommandFailure(ExitCodes.FAILED, "the catalog's lease answer has no leaseId: " + r.body());
            }
            return new LeaseKeeper(api, stanza, id, err, ttlSeconds);
        } catch (IOException e) {
            throw new CommandFailure(ExitCodes.FAILED, "the catalog's lease answer is not JSON: " + e.getMessage(), e);
        }
    }

    private void renew(int ttlSeconds) {
        try {
            CatalogApi.Response r = api.renewBackupLease(stanza, MAPPER.createObjectNode().put("leaseId", leaseId)
                    .put("ttlSeconds", ttlSeconds).toString());
            if (r.status() == 409) {
                lost = r.message();
                err.println("tidemark backup: the backup lease was lost: " + lost);
            } else if (r.status() != 200) {
                err.println("tidemark backup: warning: lease heartbeat: HTTP " + r.status() + ": " + r.message());
            }
        } catch (RuntimeException e) {
            err.println("tidemark backup: warning: lease heartbeat failed (will retry): " + e.getMessage());
        }
    }

    /** Why the lease is no longer ours (another backup took it over after it expired), or null. */
    String lost() {
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
