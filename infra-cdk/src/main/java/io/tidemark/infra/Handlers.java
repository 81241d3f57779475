package io.tidemark.infra;

import io.tidemark.events.api.ApiFunction;

/**
 * The Lambda handler classes the stack deploys. Referenced by name only: this module does not
 * depend on {@code functions}, and some handlers are written by other issues. Those behind the API
 * come from the route table ({@link ApiFunction}).
 */
public final class Handlers {

    public static final String WAL_INDEX = "io.tidemark.functions.index.WalIndexHandler";
    public static final String MANIFEST_VALIDATE = "io.tidemark.functions.validate.ManifestValidateHandler";
    public static final String CATALOG_API = ApiFunction.CATALOG_API.handlerClass();
    public static final String RESTORE_PLAN = ApiFunction.RESTORE_PLAN.handlerClass();
    public static final String BACKUP_SCHEDULER = "io.tidemark.functions.schedule.BackupSchedulerHandler";
    public static final String RETENTION = "io.tidemark.functions.retain.RetentionHandler";
    public static final String EXPIRE_API = ApiFunction.EXPIRE_API.handlerClass();
    public static final String VERIFY = "io.tidemark.functions.verify.VerifyHandler";
    public static final String VERIFY_API = ApiFunction.VERIFY_API.handlerClass();
    public static final String STANZA_METRICS = "io.tidemark.functions.metrics.StanzaMetricsHandler";

    private Handlers() {
    }
}
