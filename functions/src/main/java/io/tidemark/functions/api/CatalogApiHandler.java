package io.tidemark.functions.api;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestStreamHandler;
import io.tidemark.functions.aws.DynamoDbCatalogStore;
import io.tidemark.functions.aws.S3ObjectStore;
import io.tidemark.functions.catalog.CatalogException;
import io.tidemark.functions.catalog.CatalogService;
import io.tidemark.functions.lease.BackupLeaseService;
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
import java.util.Locale;

/**
 * API Gateway (REST, proxy integration) routes of the catalog:
 * <ul>
 *   <li>{@code PUT /stanzas/{stanza}}: stanza-create; 200 with {@code created}, 400, 409;</li>
 *   <li>{@code GET /stanzas/{stanza}}: the stanza with its timelines, WAL ranges and gaps, backups,
 *       the backup lease and the recovery window (the WINDOW item); 404;</li>
 *   <li>{@code POST /stanzas/{stanza}/backup-lease}: acquire (200, 409 with the holder, 400, 404);</li>
 *   <li>{@code PUT /stanzas/{stanza}/backup-lease}: heartbeat (200, 409 when no longer held);</li>
 *   <li>{@code DELETE /stanzas/{stanza}/backup-lease?leaseId=}: release (200, idempotent).</li>
 * </ul>
 * Errors are {@code {"message": "..."}}.
 */
public final class CatalogApiHandler implements RequestStreamHandler, AutoCloseable {


    private final AwsClients aws;
    private final CatalogService service;
    private final BackupLeaseService leases;
    private final SnapStartHooks snapStart;

    /** The resource of the lease routes. */
    public static final String LEASE_RESOURCE = "/stanzas/{stanza}/backup-lease";

    public CatalogApiHandler() {
        this(FunctionConfig.fromEnvironment());
    }

    public CatalogApiHandler(FunctionConfig config) {
        this.aws = AwsClients.create(config);
        DynamoDbCatalogStore store = new DynamoDbCatalogStore(aws.dynamoDb(), config.table());
        this.service = new CatalogService(store, new S3ObjectStore(aws.s3(), config.bucket()), Clock.systemUTC());
        this.leases = new BackupLeaseService(store, Clock.systemUTC());
        this.snapStart = SnapStartHooks.register(aws, this::prime);
    }

    /** For tests: a handler over any services. */
    CatalogApiHandler(CatalogService service, BackupLeaseService leases) {
        this.aws = null;
        this.service = service;
        this.leases = leases;
        this.snapStart = null;
    }

    /**
     * SnapStart priming: representative requests on both resources through the whole handler
     * (read, route, answer, write). Their method is one no route serves, so the answer is a 405
     * made without the catalog: no DynamoDB or S3 call.
     */
    void prime() {
        for (String resource : new String[] {"/stanzas/{stanza}", LEASE_RESOURCE}) {
            String path = resource.replace("{stanza}", "priming");
            handleRequest(new ByteArrayInputStream(PrimingEvents.apiRequest("PATCH", resource, path,
                    Map.of("stanza", "priming"), "{\"holder\": \"priming\"}")), OutputStream.nullOutputStream(), null);
        }
    }

    SnapStartHooks snapStart() {
        return snapStart;
    }

    @Override
    public void handleRequest(InputStream input, OutputStream output, Context context) {
        ApiGatewayProxy.serve(input, output, this::handle, "catalog request");
    }

    ApiGatewayProxy.Response handle(ApiGatewayProxy.Request request) {
        String method = request.httpMethod() == null ? "" : request.httpMethod().toUpperCase(Locale.ROOT);
        String stanza = request.pathParameter("stanza").orElse(null);
        if (stanza == null) {
            return ApiGatewayProxy.Response.message(400, "the path has no {stanza}");
        }
        if (LEASE_RESOURCE.equals(request.resource())) {
            return lease(method, stanza, request);
        }
        try {
            return switch (method) {
                case "PUT" -> ok(CatalogJson.created(service.createStanza(stanza, request.bodyBytes())).toString());
                case "GET" -> ok(CatalogJson.stanza(service.describe(stanza)).toString());
                default -> ApiGatewayProxy.Response.message(405, "method " + method + " is not allowed on /stanzas/{stanza}")
                        .withHeader("Allow", "GET, PUT");
            };
        } catch (CatalogException e) {
            return error(e);
        }
    }

    private ApiGatewayProxy.Response lease(String method, String stanza, ApiGatewayProxy.Request request) {
        try {
            return switch (method) {
                case "POST" -> ok(LeaseJson.acquired(leases.acquire(stanza, request.bodyBytes())).toString());
                case "PUT" -> ok(LeaseJson.renewed(leases.heartbeat(stanza, request.bodyBytes())).toString());
                case "DELETE" -> ok(LeaseJson.released(
                        leases.release(stanza, request.queryParameter("leaseId").orElse(null))).toString());
                default -> ApiGatewayProxy.Response.message(405, "method " + method + " is not allowed on "
                        + LEASE_RESOURCE).withHeader("Allow", "POST, PUT, DELETE");
            };
        } catch (LeaseConflictException e) {
            return ApiGatewayProxy.Response.json(409, LeaseJson.conflict(e).toString());
        } catch (CatalogException e) {
            return error(e);
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
