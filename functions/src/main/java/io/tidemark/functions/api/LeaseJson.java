package io.tidemark.functions.api;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tidemark.functions.catalog.BackupLease;
import io.tidemark.functions.lease.LeaseConflictException;

/** The JSON bodies of {@code /stanzas/{stanza}/backup-lease} (the contract the node shim is coded against). */
public final class LeaseJson {

    private LeaseJson() {
    }

    /** {@code POST} 200 (with {@code tookOver} when it replaced a dead holder's lease). */
    public static ObjectNode acquired(BackupLease l) {
        ObjectNode n = CatalogJson.MAPPER.createObjectNode()
                .put("leaseId", l.leaseId())
                .put("label", l.label())
                .put("holder", l.holder())
                .put("acquiredAt", l.acquiredAt().toString())
                .put("expiresAt", l.expiresAt().toString());
        if (l.takeover() != null) {
            n.putObject("tookOver").put("leaseId", l.takeover().leaseId()).put("holder", l.takeover().holder())
                    .put("reason", l.takeover().reason());
        }
        return n;
    }

    /** {@code PUT} 200. */
    public static ObjectNode renewed(BackupLease l) {
        return CatalogJson.MAPPER.createObjectNode().put("expiresAt", l.expiresAt().toString());
    }

    /** {@code DELETE} 200. */
    public static ObjectNode released(boolean released) {
        return CatalogJson.MAPPER.createObjectNode().put("released", released);
    }

    /**
     * {@code POST} 409: who holds the lease, with its id and the holder's identity so that a
     * backup on the holder's own host can prove the holder dead and take the lease over.
     */
    public static ObjectNode conflict(LeaseConflictException e) {
        BackupLease l = e.lease();
        ObjectNode n = CatalogJson.MAPPER.createObjectNode()
                .put("message", e.getMessage())
                .put("leaseId", l.leaseId())
                .put("label", l.label())
                .put("holder", l.holder())
                .put("expiresAt", l.expiresAt().toString());
        if (l.identity() != null) {
            n.putObject("identity").put("host", l.identity().host()).put("bootId", l.identity().bootId())
                    .put("pid", l.identity().pid()).put("startTicks", l.identity().startTicks());
        }
        return n;
    }
}
