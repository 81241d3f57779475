package io.tidemark.infra;

/**
 * The Lambda handler classes the stack deploys. Referenced by name only: this module does not
 * depend on {@code functions}, and some handlers are written by other issues.
 */
public final class Handlers {

    public static final String WAL_INDEX = "io.tidemark.functions.index.WalIndexHandler";
    public static final String MANIFEST_VALIDATE = "io.tidemark.functions.validate.ManifestValidateHandler";
    public static final String CATALOG_API = "io.tidemark.functions.api.CatalogApiHandler";
    public static final String RESTORE_PLAN = "io.tidemark.functions.plan.RestorePlanHandler";
    public static final String BACKUP_SCHEDULER = "io.tidemark.functions.schedule.BackupSchedulerHandler";
    public static final String RETENTION = "io.tidemark.functions.retain.RetentionHandler";
    public static final String EXPIRE_API = "io.tidemark.functions.retain.ExpireApiHandler";
    public static final String VERIFY = "io.tidemark.functions.verify.VerifyHandler";
    public static final String VERIFY_API = "io.tidemark.functions.verify.VerifyApiHandler";
    public static final String STANZA_METRICS = "io.tidemark.functions.metrics.StanzaMetricsHandler";

    private Handlers() {
    }
}
