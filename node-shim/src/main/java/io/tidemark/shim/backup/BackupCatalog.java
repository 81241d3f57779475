package io.tidemark.shim.backup;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tidemark.events.backup.BackupManifest;
import io.tidemark.events.backup.ManifestException;
import io.tidemark.events.backup.ManifestJson;
import io.tidemark.events.json.Json;
import io.tidemark.events.layout.BackupLabelName;
import io.tidemark.events.layout.StanzaName;
import io.tidemark.events.layout.StorageLayout;
import io.tidemark.shim.api.CatalogApi;
import io.tidemark.shim.cli.CommandFailure;
import io.tidemark.shim.cli.ExitCodes;
import io.tidemark.shim.storage.ObjectStore;
import java.io.IOException;
import java.io.PrintStream;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What a backup reads of the archive: the stanza's document (its cluster, its backups), the
 * manifests of the prior backup and of those it references, and after the upload the cloud's
 * verdict on the new backup.
 */
final class BackupCatalog {
    /** How long to wait after the upload for the validation verdict (it is not required). */
    static final long VALIDATION_WAIT_MS = 6_000;
    /**
     * Between two looks at the catalog while waiting: the verdict is printed within this much of
     * its arrival (each look is one GET /stanzas; at most 30 in the whole wait).
     */
    static final long VALIDATION_POLL_MS = 200;
    private static final ObjectMapper MAPPER = Json.mapper();

    private final CatalogApi api;
    private final ObjectStore store;
    private final StanzaName stanza;

    BackupCatalog(CatalogApi api, ObjectStore store, StanzaName stanza) {
        this.api = api;
        this.store = store;
        this.stanza = stanza;
    }

    JsonNode stanzaDocument() {
        CatalogApi.Response r = api.getStanza(stanza);
        if (r.status() == 404) {
            throw new CommandFailure(ExitCodes.FAILED, "no stanza " + stanza + " in the catalog: run tidemark stanza-create");
        }
        if (r.status() != 200) {
            throw new CommandFailure(ExitCodes.FAILED, "GET /stanzas/" + stanza + ": HTTP " + r.status() + ": " + r.message());
        }
        try {
            return MAPPER.readTree(r.body());
        } catch (IOException e) {
            throw new CommandFailure(ExitCodes.FAILED, "GET /stanzas/" + stanza + " is not JSON: " + e.getMessage(), e);
        }
    }

    BackupManifest manifest(BackupLabelName l) {
        Optional<ObjectStore.Fetched> o = store.get(StorageLayout.manifestKey(stanza, l));
        if (o.isEmpty()) {
            throw new CommandFailure(ExitCodes.FAILED, "the manifest of backup " + l + " is missing from the bucket");
        }
        try {
            return ManifestJson.read(o.get().data());
        } catch (ManifestException e) {
            throw new CommandFailure(ExitCodes.FAILED, "the manifest of backup " + l + " cannot be read: " + e.getMessage(), e);
        }
    }

    /** Start times of the prior backup and of every backup it references. */
    Map<BackupLabelName, Instant> startTimes(BackupManifest prior) {
        Map<BackupLabelName, Instant> m = new HashMap<>();
        m.put(prior.label(), prior.startTime());
        for (BackupLabelName r : prior.references()) {
            m.put(r, manifest(r).startTime());
        }
        return m;
    }

    /** Polls the catalog a few seconds for the verdict; prints what it knows. */
    void awaitValidation(BackupLabelName label, boolean standby, PrintStream out) {
        long deadline = System.nanoTime() + VALIDATION_WAIT_MS * 1_000_000;
        String status = null;
        List<String> reasons = List.of();
        while (System.nanoTime() < deadline) {
            try {
                CatalogApi.Response r = api.getStanza(stanza);
                if (r.status() == 200) {
                    for (CatalogBackup b : CatalogBackup.fromStanzaDocument(MAPPER.readTree(r.body()))) {
                        if (b.label().equals(label)) {
                            status = b.status();
                            reasons = b.reasons();
                        }
                    }
                }
            } catch (IOException | RuntimeException e) {
                break;
            }
            if ("valid".equals(status) || "invalid".equals(status) || (standby && "waiting-wal".equals(status))) {
                break;
            }
            try {
                Thread.sleep(VALIDATION_POLL_MS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        if (status == null) {
            out.println("validation: not reported yet (see tidemark info)");
        } else {
            out.println("validation: " + status + (reasons.isEmpty() ? "" : ": " + String.join("; ", reasons)));
        }
        if (standby && !"valid".equals(status)) {
            out.println("  (from a standby: the primary archives the WAL up to the stop LSN; the backup becomes valid"
                    + " once it has)");
        }
    }
}
