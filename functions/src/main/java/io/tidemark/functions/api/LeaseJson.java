package io.tidemark.functions.api;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tidemark.functions.catalog.BackupLease;
import io.tidemark.functions.lease.LeaseConflictException;

/** The JSON bodies of {@code /stanzas/{stanza}/backup-lease} (the contract the node shim is coded against). */
public final class LeaseJson {

    private LeaseJson() {
    }

    /** {@code POST} 200. */
    public static ObjectNode acquired(BackupLease l) {
        return CatalogJson.MAPPER.createObjectNode()
                .put("leaseId", l.leaseId())
                .put("label", l.label())
                .put("holder", l.holder())
                .put("acquiredAt", l.acquiredAt().toString())
                .put("expiresAt", l.expiresAt().toString());
    }

    /** {@code PUT} 200. */
    public static ObjectNode renewed(BackupLease l) {
        return CatalogJson.MAPPER.createObjectNode().put("expiresAt", l.expiresAt().toString());
    }

    /** {@code DELETE} 200. */
    public static ObjectNode released(boolean released) {
        return CatalogJson.MAPPER.createObjectNode().put("released", released);
    }

    /** {@code POST} 409: who holds the lease. */
    public static ObjectNode conflict(LeaseConflictException e) {
        BackupLease l = e.lease();
        return CatalogJson.MAPPER.createObjectNode()
                .put("message", e.getMessage())
                .put("label", l.label())
                .put("holder", l.holder())
                .put("expiresAt", l.expiresAt().toString());
    }
}
