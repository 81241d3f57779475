package io.tidemark.localcloud;

/**
 * The one place where the product functions are wired into local-cloud, mirroring what the
 * CDK app configures in AWS: S3 notifications (prefix/suffix filters to the WAL indexer and the
 * manifest validator) and API routes (catalog reads, restore plans).
 *
 * <p>No product handler exists yet. When one does, register it here, e.g.
 * <pre>{@code
 * builder.onObjectCreated("wal-indexer", null, ".zst", WalIndexerHandler::new)
 *        .onObjectCreated("manifest-validator", null, "/manifest.json", ManifestValidatorHandler::new)
 *        .route("catalog", "GET", "/stanzas/{stanza}", CatalogHandler::new)
 *        .route("planner", "POST", "/stanzas/{stanza}/restore-plans", RestorePlanHandler::new);
 * }</pre>
 * Handlers get their {@link io.tidemark.functions.runtime.FunctionConfig} from local-cloud (local
 * endpoints, bucket, table, static credentials), exactly as Lambda would from its environment.
 */
public final class LocalCloudFunctions {

    private LocalCloudFunctions() {
    }

    /** Adds the Tidemark functions to {@code builder}; returns it. */
    public static LocalCloud.Builder register(LocalCloud.Builder builder) {
        return builder;
    }
}
