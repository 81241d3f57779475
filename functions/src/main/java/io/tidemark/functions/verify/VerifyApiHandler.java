package io.tidemark.functions.verify;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestStreamHandler;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tidemark.events.api.ApiFunction;
import io.tidemark.events.api.ApiRoute;
import io.tidemark.events.json.Json;
import io.tidemark.events.layout.BackupLabelName;
import io.tidemark.events.layout.StanzaName;
import io.tidemark.functions.catalog.CatalogException;
import io.tidemark.functions.catalog.UnknownStanzaException;
import io.tidemark.functions.runtime.ApiGatewayProxy;
import io.tidemark.functions.runtime.AwsClients;
import io.tidemark.functions.runtime.FunctionConfig;
import io.tidemark.functions.runtime.PrimingEvents;
import io.tidemark.functions.runtime.SnapStartHooks;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The verify routes, for {@code tidemark verify}:
 * <ul>
 *   <li>{@code POST /stanzas/{stanza}/verify} with {@code {}} or {@code {"backup": LABEL}}: starts a run
 *       (its plan and batches run in the verify function); 202 with the run ({@code id},
 *       {@code state}); 404 for an unknown stanza or backup; 400 for a bad body;</li>
 *   <li>{@code GET /stanzas/{stanza}/verify/{runId}?limit=N}: the run's state, progress and first N
 *       problems (default and maximum {@value VerifyService#MAX_LISTED}); 404.</li>
 * </ul>
 */
public final class VerifyApiHandler implements RequestStreamHandler, AutoCloseable {


    private static final ObjectMapper MAPPER = Json.mapper();

    private final AwsClients aws;
    private final VerifyService service;
    private final SnapStartHooks snapStart;

    public VerifyApiHandler() {
        this(FunctionConfig.fromEnvironment());
    }

    public VerifyApiHandler(FunctionConfig config) {
        this(config, null);
    }

    /** @param dispatch how a run's plan is started; null: the verify function named in the configuration */
    public VerifyApiHandler(FunctionConfig config, VerifyDispatch dispatch) {
        this.aws = AwsClients.create(config);
        this.service = VerifyHandler.service(config, aws, dispatch,
                io.tidemark.functions.metrics.EmfMetrics.standardOut());
        this.snapStart = SnapStartHooks.register(aws, this::prime);
    }

    /** SnapStart priming: a request with a method no route serves (a 405 made without S3 or DynamoDB). */
    void prime() {
        for (ApiRoute route : List.of(ApiRoute.VERIFY_START, ApiRoute.VERIFY_RUN)) {
            String resource = route.template();
            handleRequest(new ByteArrayInputStream(PrimingEvents.apiRequest("PATCH", resource,
                    resource.replace("{stanza}", "priming").replace("{runId}", "priming"),
                    Map.of("stanza", "priming", "runId", "priming"), "{}")), OutputStream.nullOutputStream(), null);
        }
    }

    SnapStartHooks snapStart() {
        return snapStart;
    }

    @Override
    public void handleRequest(InputStream input, OutputStream output, Context context) {
        ApiGatewayProxy.serve(input, output, context, this::handle, "verify request");
    }

    ApiGatewayProxy.Response handle(ApiGatewayProxy.Request request) {
        String method = request.httpMethod() == null ? "" : request.httpMethod().toUpperCase(Locale.ROOT);
        String resource = request.resource() == null ? ApiRoute.VERIFY_START.template() : request.resource();
        ApiRoute route = ApiRoute.find(method, resource).filter(r -> r.function() == ApiFunction.VERIFY_API)
                .orElse(null);
        if (route == null) {
            return ApiGatewayProxy.Response.notRouted(method, resource);
        }
        StanzaName stanza;
        try {
            stanza = StanzaName.of(request.pathParameter("stanza").orElse(""));
        } catch (IllegalArgumentException e) {
            return ApiGatewayProxy.Response.message(400, "stanza: " + e.getMessage());
        }
        try {
            if (route == ApiRoute.VERIFY_RUN) {
                String id = request.pathParameter("runId").orElse("");
                int limit = limit(request.queryParameter("limit").orElse(null));
                return service.run(stanza, id)
                        .map(r -> ApiGatewayProxy.Response.json(200,
                                VerifyJson.run(r, service.problems(stanza, id, limit)).toString()))
                        .orElse(ApiGatewayProxy.Response.message(404, "stanza " + stanza + " has no verify run '" + id
                                + "'"));
            }
            String backup = backup(request.bodyBytes());
            VerifyRun run = service.start(stanza, backup);
            // 202 even when the plan could not be dispatched: the run says "failed" and why (a 5xx would be retried
            // by clients, starting more runs that fail the same way).
            return ApiGatewayProxy.Response.json(202,
                    VerifyJson.run(run, java.util.List.of()).toString());
        } catch (IllegalArgumentException e) {
            return ApiGatewayProxy.Response.message(400, e.getMessage());
        } catch (UnknownStanzaException e) {
            return ApiGatewayProxy.Response.message(404, "no stanza '" + stanza + "'; run tidemark stanza-create");
        } catch (CatalogException e) {
            return ApiGatewayProxy.Response.message(e.kind() == CatalogException.Kind.NOT_FOUND ? 404 : 400,
                    e.getMessage());
        }
    }

    private static String backup(byte[] body) {
        if (body == null || body.length == 0) {
            return null;
        }
        JsonNode root;
        try {
            root = MAPPER.readTree(body);
        } catch (IOException e) {
            throw new IllegalArgumentException("the body is not JSON: " + e.getMessage());
        }
        if (root == null || root.isNull()) {
            return null;
        }
        if (!root.isObject()) {
            throw new IllegalArgumentException("the body must be a JSON object: {} or {\"backup\": \"LABEL\"}");
        }
        root.fieldNames().forEachRemaining(f -> {
            if (!f.equals("backup")) {
                throw new IllegalArgumentException(f + ": unknown field (expected backup)");
            }
        });
        JsonNode b = root.get("backup");
        if (b == null || b.isNull()) {
            return null;
        }
        if (!b.isTextual()) {
            throw new IllegalArgumentException("backup: must be a backup label (a string)");
        }
        return BackupLabelName.parse(b.asText()).toString();
    }

    private static int limit(String text) {
        if (text == null) {
            return VerifyService.MAX_LISTED;
        }
        try {
            int n = Integer.parseInt(text);
            if (n >= 0 && n <= VerifyService.MAX_LISTED) {
                return n;
            }
        } catch (NumberFormatException e) {
            // below
        }
        throw new IllegalArgumentException("limit must be a whole number from 0 to " + VerifyService.MAX_LISTED
                + ", not '" + text + "'");
    }

    @Override
    public void close() {
        aws.close();
    }
}
