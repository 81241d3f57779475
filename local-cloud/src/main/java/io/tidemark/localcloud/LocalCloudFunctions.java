package io.tidemark.localcloud;

import io.tidemark.events.api.ApiRoute;
import io.tidemark.functions.api.CatalogApiHandler;
import io.tidemark.functions.index.WalIndexHandler;
import io.tidemark.functions.metrics.StanzaMetricsHandler;
import io.tidemark.functions.plan.RestorePlanHandler;
import io.tidemark.functions.schedule.BackupSchedulerHandler;
import io.tidemark.functions.retain.ExpireApiHandler;
import io.tidemark.functions.validate.ManifestValidateHandler;
import io.tidemark.functions.verify.VerifyApiHandler;
import io.tidemark.functions.verify.VerifyHandler;

/**
 * The one place where the product functions are wired into local-cloud, mirroring what the
 * CDK app configures in AWS: S3 notifications and API routes. The API routes are the table the
 * stack is built from ({@link ApiRoute}): each served by its function (named
 * {@link ApiRoute#localName()} here), running as the stack's function of that name.
 *
 * <ul>
 *   <li>{@code wal-indexer} ({@link WalIndexHandler}): ObjectCreated, and ObjectRemoved (a WAL,
 *       history or backup object deleted: the catalog marks it missing). In AWS the ObjectCreated
 *       notification filters on the prefix {@code <stanza>/wal/} of each stanza, the ObjectRemoved
 *       one on {@code <stanza>/}. Here stanzas are not known
 *       up front and the filter is a literal prefix/suffix, so the indexer gets every key and
 *       ignores (logs) the ones that are not WAL, {@code .history} or {@code .backup} objects.</li>
 *   <li>{@code manifest-validator} ({@link ManifestValidateHandler}): ObjectCreated with the suffix
 *       {@code /manifest.json} (in AWS: prefix {@code <stanza>/backup/} and that suffix per stanza).
 *       Backups waiting for WAL are resumed by the indexer, in its own invocation.</li>
 *   <li>{@code catalog} ({@link CatalogApiHandler}): {@code PUT} and {@code GET /stanzas/{stanza}}, and
 *       {@code POST}, {@code PUT}, {@code DELETE /stanzas/{stanza}/backup-lease}.</li>
 *   <li>{@code restore-plan} ({@link RestorePlanHandler}): {@code POST /stanzas/{stanza}/restore-plans} and
 *       {@code GET /restore-plans/{id}/urls}; it signs with {@code DIR/plan-key.pem} (given as
 *       {@code TIDEMARK_PLAN_PRIVATE_KEY_FILE}), whose public key tidemark.conf carries as
 *       {@code plan.publicKey}. (In AWS one Lambda serves both routes.)</li>
 *   <li>the job routes of {@link CatalogApiHandler} ({@code GET /stanzas/{stanza}/jobs}, {@code POST
 *       .../jobs/{jobId}/claim|pass|report}), as in AWS;</li>
 *   <li>{@code backup-scheduler} ({@link BackupSchedulerHandler}): a scheduled function (name it in
 *       {@code DIR/schedules.json}, see {@link LocalSchedule}); it delivers jobs to in-process queues
 *       ({@link LocalJobQueues}) instead of SQS, which the agents receive from through the local-only
 *       routes {@code POST /stanzas/{stanza}/job-queue/receive|visibility|delete}
 *       ({@link LocalJobQueueHandler}).</li>
 *   <li>retention ({@link io.tidemark.functions.retain.RetentionHandler}): after a backup is concluded
 *       valid (by the validator, or by the indexer resuming it), run in-process on a background
 *       thread ({@link InProcessRetentionTrigger}, one per local cloud; {@link LocalCloud#awaitQuiescent}
 *       waits for it), as the asynchronous Lambda invoke does in AWS. Its policy for a stanza is the
 *       setting {@code TIDEMARK_RETENTION_POLICIES} ({@code functionSetting}), else the default;
 *       {@code expire} ({@link ExpireApiHandler}): {@code POST /stanzas/{stanza}/expire}, dry runs only.
 *       The daily run is a schedule of {@code DIR/schedules.json} naming the scheduled function
 *       {@code retention} with the input the CDK stack gives it ({@code {"stanza", "retention": {...}}}).</li>
 *   <li>verify ({@link VerifyHandler}): {@code POST /stanzas/{stanza}/verify} starts a run and
 *       {@code GET /stanzas/{stanza}/verify/{runId}} shows it ({@link VerifyApiHandler}); the run's plan
 *       and batches are invocations of the verify function on an in-process pool
 *       ({@link InProcessVerifyDispatch}, where AWS uses asynchronous invokes). The daily run is a
 *       schedule of {@code DIR/schedules.json} naming the scheduled function {@code verify} with
 *       {@code {"stanza": ...}}.</li>
 *   <li>metrics: the functions that publish metrics (indexer, validator, verify, {@code stanza-metrics})
 *       write their embedded-metric lines into the cloud's {@link LocalMetrics} instead of standard
 *       output; {@code stanza-metrics} ({@link StanzaMetricsHandler}) is a scheduled function (a
 *       {@code DIR/schedules.json} entry with {@code {"stanza": ...}}, every minute or so) that publishes
 *       a stanza's archive lag and backup age; {@code GET /local/metrics} lists what was collected
 *       ({@link LocalMetricsHandler}, local-cloud only).</li>
 * </ul>
 * Handlers get their {@link io.tidemark.functions.runtime.FunctionConfig} from local-cloud (local
 * endpoints, bucket, table, static credentials), exactly as Lambda would from its environment.
 */
public final class LocalCloudFunctions {

    private LocalCloudFunctions() {
    }

    /** The backup scheduler as a scheduled function (an entry of {@code DIR/schedules.json}). */
    public static final String BACKUP_SCHEDULER = "backup-scheduler";
    /** The retention function as a scheduled function: the daily run is an entry of {@code DIR/schedules.json}. */
    public static final String RETENTION = "retention";

    /** The verify function as a scheduled function: the daily run is an entry of {@code DIR/schedules.json}. */
    public static final String VERIFY = "verify";

    /**
     * The scheduled publisher of each stanza's archive lag and backup age: a schedule of
     * {@code DIR/schedules.json} naming it with {@code {"stanza": ...}}, every minute or so.
     */
    public static final String STANZA_METRICS = "stanza-metrics";

    /** Adds the Tidemark functions to {@code builder}; returns it. */
    public static LocalCloud.Builder register(LocalCloud.Builder builder) {
        // Every function publishes its metrics (EMF) into the cloud's collector, not standard output.
        LocalMetrics metrics = builder.metrics();
        LocalJobQueues queues = new LocalJobQueues();
        // Calls between functions are judged by the caller's role when the cloud enforces IAM.
        InProcessCallGate gate = new InProcessCallGate();
        // One verify "function" per local cloud: the API starts runs on it, runs fan out on it.
        InProcessVerifyDispatch verify = new InProcessVerifyDispatch(metrics.publisher(VERIFY), gate);
        // One retention "function" per local cloud, invoked by both (as both invoke one alias in AWS).
        InProcessRetentionTrigger retention = new InProcessRetentionTrigger(metrics.publisher(RETENTION));
        // Every method of the stack's API (events ApiRoute), served by its function, which runs as
        // the stack's function of that name; one instance per route, as local-cloud instantiates.
        for (ApiRoute route : ApiRoute.values()) {
            HandlerFactory factory = switch (route.function()) {
                case CATALOG_API -> c -> new CatalogApiHandler(c, metrics.publisher("catalog"));
                case RESTORE_PLAN -> RestorePlanHandler::new;
                case EXPIRE_API -> ExpireApiHandler::new;
                case VERIFY_API -> c -> new VerifyApiHandler(c, gate.verify(verify, route.function().stackName()));
            };
            builder.route(route.localName(), route.method(), route.template(), factory)
                    .functionRole(route.localName(), route.function().stackName());
        }
        return builder
                .inProcessCallGate(gate)
                .background(retention)
                .background(verify)
                .onObjectCreatedAndRemoved("wal-indexer", null, null, config -> new WalIndexHandler(config,
                        gate.retention(retention, "WalIndex"), metrics.publisher("wal-indexer")))
                .onObjectCreated("manifest-validator", null, "/manifest.json",
                        config -> new ManifestValidateHandler(config, gate.retention(retention, "ManifestValidate"),
                                metrics.publisher("manifest-validator")))
                .route("job-queue-receive", "POST", LocalJobQueueHandler.RECEIVE, c -> new LocalJobQueueHandler(queues))
                .route("job-queue-visibility", "POST", LocalJobQueueHandler.VISIBILITY,
                        c -> new LocalJobQueueHandler(queues))
                .route("job-queue-delete", "POST", LocalJobQueueHandler.DELETE, c -> new LocalJobQueueHandler(queues))
                .scheduledFunction(BACKUP_SCHEDULER, c -> new BackupSchedulerHandler(c, gate.jobs(queues, "BackupScheduler")))
                .scheduledFunction(RETENTION, c -> new io.tidemark.functions.retain.RetentionHandler(c,
                        metrics.publisher(RETENTION)))
                .scheduledFunction(VERIFY, c -> new VerifyHandler(c, gate.verify(verify, "Verify"), metrics.publisher(VERIFY)))
                .scheduledFunction(STANZA_METRICS, c -> new StanzaMetricsHandler(c, metrics.publisher(STANZA_METRICS)))
                // local only: the operator (or anyone allowed execute-api:Invoke on it) lists what was published
                .route("metrics-list", "GET", LocalMetricsHandler.RESOURCE, c -> new LocalMetricsHandler(metrics))
                // the role each runs as when local-cloud enforces IAM: the stack's function names
                .functionRole("wal-indexer", "WalIndex")
                .functionRole("manifest-validator", "ManifestValidate")
                // in-memory stand-ins for SQS: the API gate judges their callers as SQS would
                .functionRole("job-queue-receive", LocalCloud.NO_ROLE)
                .functionRole("job-queue-visibility", LocalCloud.NO_ROLE)
                .functionRole("job-queue-delete", LocalCloud.NO_ROLE)
                .functionRole(BACKUP_SCHEDULER, "BackupScheduler")
                .functionRole(RETENTION, "Retention")
                .functionRole(VERIFY, "Verify")
                .functionRole(STANZA_METRICS, "StanzaMetrics")
                .functionRole("metrics-list", LocalCloud.NO_ROLE);
    }
}
