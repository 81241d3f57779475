package io.tidemark.functions.api;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestStreamHandler;
import io.tidemark.events.api.ApiFunction;
import io.tidemark.events.api.ApiRoute;
import io.tidemark.functions.aws.DynamoDbCatalogStore;
import io.tidemark.functions.aws.S3ObjectStore;
import io.tidemark.events.json.Json;
import io.tidemark.functions.catalog.CatalogException;
import io.tidemark.functions.catalog.CatalogService;
import io.tidemark.functions.catalog.CatalogStore;
import io.tidemark.events.layout.StanzaName;
import io.tidemark.functions.verify.VerifyJson;
import io.tidemark.functions.verify.VerifyService;
import io.tidemark.functions.job.JobConflictException;
import io.tidemark.functions.job.JobService;
import io.tidemark.events.metrics.TidemarkMetric;
import io.tidemark.functions.lease.BackupLeaseService;
import io.tidemark.functions.metrics.EmfMetrics;
import io.tidemark.functions.metrics.MetricsPublisher;
import io.tidemark.functions.lease.LeaseConflictException;
import io.tidemark.functions.runtime.ApiGatewayProxy;
import io.tidemark.functions.runtime.AwsClients;
import io.tidemark.functions.runtime.FunctionConfig;
import io.tidemark.functions.runtime.PrimingEvents;
import io.tidemark.functions.runtime.SnapStartHooks;
import java.io.ByteArrayInputStream;
import java.util.Map;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Clock;
import java.util.List;
import java.util.Locale;

/**
 * API Gateway (REST, proxy integration) routes of the catalog:
 * <ul>
 *   <li>{@code PUT /stanzas/{stanza}}: stanza-create; 200 with {@code created}, 400, 409;</li>
 *   <li>{@code GET /stanzas/{stanza}}: the stanza with its timelines, WAL ranges and gaps, backups,
 *       the backup lease and the recovery window (the WINDOW item); 404;</li>
 *   <li>{@code POST /stanzas/{stanza}/backup-lease}: acquire (200, 409 with the holder, 400, 404);</li>
 *   <li>{@code PUT /stanzas/{stanza}/backup-lease}: heartbeat (200, 409 when no longer held);</li>
 *   <li>{@code DELETE /stanzas/{stanza}/backup-lease?leaseId=}: release (200, idempotent);</li>
 *   <li>{@code POST}, {@code PUT}, {@code DELETE /stanzas/{stanza}/stream-lease}: the same for the WAL stream;</li>
 *   <li>{@code GET /stanzas/{stanza}/jobs?limit=N}: the newest backup jobs (default 10);</li>
 *   <li>{@code POST /stanzas/{stanza}/jobs/{jobId}/claim}, {@code .../pass}, {@code .../report}: a node
 *       claims a job (200, 409 with the job when someone else has it or it is over), a replica records
 *       that it left it for the primary, the claimer reports the result (see {@link JobService}).</li>
 *   <li>{@code POST /stanzas/{stanza}/conflicts}: a node refused to replace an object holding other
 *       content; logged and published as HistoryConflicts (202, 400).</li>
 * </ul>
 * The stanza document ({@code GET /stanzas/{stanza}}) carries the newest jobs as {@code jobs}, and
 * the newest finished verify run as {@code verify} (the verify routes are {@code VerifyApiHandler}'s).
 * Errors are {@code {"message": "..."}}.
 */
public final class CatalogApiHandler implements RequestStreamHandler, AutoCloseable {


    private final AwsClients aws;
    private final CatalogService service;
    private final BackupLeaseService leases;
    /** The WAL stream's lease; null in tests built without a store. */
    private final BackupLeaseService streamLeases;
    private final JobService jobs;
    private final CatalogStore store;
    private final Clock clock;
    private final SnapStartHooks snapStart;
    private final MetricsPublisher metrics;
    /** Restore drills; null in tests built without a store. */
    private final io.tidemark.functions.drill.DrillService drills;

    private static final System.Logger LOG = System.getLogger(CatalogApiHandler.class.getName());

    public CatalogApiHandler() {
        this(FunctionConfig.fromEnvironment());
    }

    public CatalogApiHandler(FunctionConfig config) {
        this(config, EmfMetrics.standardOut());
    }

    /** @param metrics where conflict reports go (local-cloud: its collector) */
    public CatalogApiHandler(FunctionConfig config, MetricsPublisher metrics) {
        this.metrics = metrics;
        this.aws = AwsClients.create(config);
        DynamoDbCatalogStore store = new DynamoDbCatalogStore(aws.dynamoDb(), config.table());
        this.service = new CatalogService(store, new S3ObjectStore(aws.s3(), config.bucket()), Clock.systemUTC());
        this.leases = new BackupLeaseService(store, Clock.systemUTC());
        this.streamLeases = BackupLeaseService.stream(store, Clock.systemUTC());
        this.jobs = new JobService(store, Clock.systemUTC());
        this.store = store;
        this.clock = Clock.systemUTC();
        this.drills = new io.tidemark.functions.drill.DrillService(store, metrics, clock);
        this.snapStart = SnapStartHooks.register(aws, this::prime);
    }

    /** For tests: a handler over any services. */
    CatalogApiHandler(CatalogService service, BackupLeaseService leases, JobService jobs, Clock clock) {
        this(service, leases, jobs, null, clock);
    }

    /** For tests: a handler over any services; {@code store} (may be null) answers the last verify run. */
    CatalogApiHandler(CatalogService service, BackupLeaseService leases, JobService jobs, CatalogStore store,
                      Clock clock) {
        this(service, leases, jobs, store, clock, MetricsPublisher.NONE);
    }

    /** For tests: as above, with the publisher conflict reports go to. */
    CatalogApiHandler(CatalogService service, BackupLeaseService leases, JobService jobs, CatalogStore store,
                      Clock clock, MetricsPublisher metrics) {
        this.metrics = metrics;
        this.aws = null;
        this.service = service;
        this.leases = leases;
        this.jobs = jobs;
        this.store = store;
        this.clock = clock;
        this.drills = store == null ? null : new io.tidemark.functions.drill.DrillService(store, metrics, clock);
        this.streamLeases = store == null ? null : BackupLeaseService.stream(store, clock);
        this.snapStart = null;
    }

    /**
     * SnapStart priming: representative requests on both resources through the whole handler
     * (read, route, answer, write). Their method is one no route serves, so the answer is a 405
     * made without the catalog: no DynamoDB or S3 call.
     */
    void prime() {
        for (ApiRoute route : List.of(ApiRoute.CATALOG_GET, ApiRoute.LEASE_ACQUIRE, ApiRoute.JOBS_LIST, ApiRoute.JOB_CLAIM)) {
            String resource = route.template();
            String path = resource.replace("{stanza}", "priming").replace("{jobId}", "priming");
            handleRequest(new ByteArrayInputStream(PrimingEvents.apiRequest("PATCH", resource, path,
                    Map.of("stanza", "priming", "jobId", "priming"), "{\"holder\": \"priming\"}")),
                    OutputStream.nullOutputStream(), null);
        }
    }

    SnapStartHooks snapStart() {
        return snapStart;
    }

    @Override
    public void handleRequest(InputStream input, OutputStream output, Context context) {
        ApiGatewayProxy.serve(input, output, context, this::handle, "catalog request");
    }

    ApiGatewayProxy.Response handle(ApiGatewayProxy.Request request) {
        String method = request.httpMethod() == null ? "" : request.httpMethod().toUpperCase(Locale.ROOT);
        String stanza = request.pathParameter("stanza").orElse(null);
        if (stanza == null) {
            return ApiGatewayProxy.Response.message(400, "the path has no {stanza}");
        }
        ApiRoute route = ApiRoute.find(method, request.resource())
                .filter(r -> r.function() == ApiFunction.CATALOG_API).orElse(null);
        if (route == null) {
            return ApiGatewayProxy.Response.notRouted(method, request.resource());
        }
        String jobId = request.pathParameter("jobId").orElse(null);
        try {
            return switch (route) {
                case CATALOG_PUT -> ok(CatalogJson.created(service.createStanza(stanza, request.bodyBytes())).toString());
                case CATALOG_GET -> ok(stanzaDocument(stanza));
                case LEASE_ACQUIRE -> ok(LeaseJson.acquired(leases.acquire(stanza, request.bodyBytes())).toString());
                case LEASE_RENEW -> ok(LeaseJson.renewed(leases.heartbeat(stanza, request.bodyBytes())).toString());
                case LEASE_RELEASE -> ok(LeaseJson.released(
                        leases.release(stanza, request.queryParameter("leaseId").orElse(null))).toString());
                case STREAM_LEASE_ACQUIRE -> ok(LeaseJson.acquired(streamLeases().acquire(stanza, request.bodyBytes()))
                        .toString());
                case STREAM_LEASE_RENEW -> ok(LeaseJson.renewed(streamLeases().heartbeat(stanza, request.bodyBytes()))
                        .toString());
                case STREAM_LEASE_RELEASE -> ok(LeaseJson.released(streamLeases().release(stanza,
                        request.queryParameter("leaseId").orElse(null))).toString());
                case JOBS_LIST -> ok(JobJson.list(jobs.recent(stanza, limit(request)), clock.instant()).toString());
                case JOB_CLAIM -> ok(JobJson.job(jobs.claim(stanza, jobId, request.bodyBytes()), clock.instant())
                        .toString());
                case JOB_PASS -> ok(JobJson.job(jobs.pass(stanza, jobId, request.bodyBytes()), clock.instant())
                        .toString());
                case JOB_REPORT -> ok(JobJson.job(jobs.report(stanza, jobId, request.bodyBytes()), clock.instant())
                        .toString());
                case CONFLICT_REPORT -> conflict(stanza, request);
                case DRILL_REPORT -> ApiGatewayProxy.Response.json(201, drills().record(StanzaName.of(stanza),
                        request.bodyBytes()).toString());
                case DRILLS_LIST -> ok(Json.mapper().createObjectNode().set("drills", drills().recent(StanzaName.of(stanza),
                        drillLimit(request))).toString());
                default -> ApiGatewayProxy.Response.notRouted(method, request.resource());
            };
        } catch (LeaseConflictException e) {
            return ApiGatewayProxy.Response.json(409, LeaseJson.conflict(e).toString());
        } catch (JobConflictException e) {
            return ApiGatewayProxy.Response.json(409, JobJson.conflict(e.getMessage(), e.job(), clock.instant())
                    .toString());
        } catch (CatalogException e) {
            return error(e);
        }
    }

    private BackupLeaseService streamLeases() {
        if (streamLeases == null) {
            throw new CatalogException(CatalogException.Kind.NOT_FOUND, "stream leases are not kept by this handler");
        }
        return streamLeases;
    }

    private io.tidemark.functions.drill.DrillService drills() {
        if (drills == null) {
            throw new CatalogException(CatalogException.Kind.NOT_FOUND, "drills are not kept by this handler");
        }
        return drills;
    }

    private static int drillLimit(ApiGatewayProxy.Request request) {
        String text = request.queryParameter("limit").orElse(null);
        try {
            return text == null ? io.tidemark.functions.drill.DrillService.DEFAULT_LIST : Integer.parseInt(text);
        } catch (NumberFormatException e) {
            throw CatalogException.badRequest("limit must be an integer from 1 to "
                    + io.tidemark.functions.drill.DrillService.MAX_LIST + ", not '" + text + "'");
        }
    }

    private String stanzaDocument(String stanza) {
        var doc = CatalogJson.stanza(service.describe(stanza));
        doc.set("jobs", JobJson.jobs(jobs.recent(stanza, JobService.DEFAULT_LIST), clock.instant()));
        if (drills != null) {
            // the newest drill (tidemark info shows it and its RTO); absent: never drilled
            var last = drills.recent(StanzaName.of(stanza), 1);
            if (!last.isEmpty()) {
                doc.set("lastDrill", last.get(0));
            }
        }
        if (store != null) {
            // The newest finished verify run and the last clean one (tidemark info); absent: never verified.
            VerifyService.last(store, StanzaName.of(stanza)).ifPresent(v -> doc.set("verify", VerifyJson.last(v)));
            // What retention did last (fulls the cap holds), and WAL with commit times ahead of arrival.
            io.tidemark.functions.retain.RetentionService.last(store, StanzaName.of(stanza))
                    .ifPresent(r -> doc.set("retention", CatalogJson.retention(r)));
            store.get(io.tidemark.functions.catalog.Keys.pk(StanzaName.of(stanza)),
                    io.tidemark.functions.catalog.Keys.FUTURE_WAL_TIMES)
                    .ifPresent(w -> doc.set("futureWalTimes", CatalogJson.futureWalTimes(w)));
        }
        return doc.toString();
    }

    /**
     * {@code POST /stanzas/{stanza}/conflicts} with {@code key}, {@code existingSha256},
     * {@code newSha256}: a node refused to replace {@code key} (an object of this stanza) holding
     * other content. One log line and one HistoryConflicts data point; nothing is stored, and the
     * node's word changes nothing in the catalog (a node cannot use it to steer anything).
     */
    private ApiGatewayProxy.Response conflict(String stanza, ApiGatewayProxy.Request request) {
        try {
            ConflictReport r = ConflictReport.parse(StanzaName.of(stanza), request.bodyBytes());
            LOG.log(System.Logger.Level.WARNING, "history conflict reported by a node of stanza " + stanza + ": "
                    + r.key() + " holds sha256 " + r.existingSha256() + ", the node refused to replace it with "
                    + r.newSha256());
            metrics.count(StanzaName.of(stanza), clock.instant(), TidemarkMetric.HISTORY_CONFLICTS);
            return ApiGatewayProxy.Response.json(202, "{\"reported\":true}");
        } catch (IllegalArgumentException e) {
            return ApiGatewayProxy.Response.message(400, e.getMessage());
        }
    }

    private static int limit(ApiGatewayProxy.Request request) {
        String text = request.queryParameter("limit").orElse(null);
        if (text == null) {
            return JobService.DEFAULT_LIST;
        }
        try {
            return Integer.parseInt(text);
        } catch (NumberFormatException e) {
            throw CatalogException.badRequest("limit must be an integer from 1 to " + JobService.MAX_LIST + ", not '"
                    + text + "'");
        }
    }

    private static ApiGatewayProxy.Response error(CatalogException e) {
        int status = switch (e.kind()) {
            case BAD_REQUEST -> 400;
            case CONFLICT -> 409;
            case NOT_FOUND -> 404;
            case GONE -> 410;
            case FORBIDDEN -> 403;
        };
        return ApiGatewayProxy.Response.message(status, e.getMessage());
    }

    private static ApiGatewayProxy.Response ok(String json) {
        return ApiGatewayProxy.Response.json(200, json);
    }

    @Override
    public void close() {
        if (aws != null) {
            aws.close();
        }
    }
}
