package io.tidemark.functions.retain;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestStreamHandler;
import io.tidemark.events.api.ApiRoute;
import io.tidemark.functions.catalog.UnknownStanzaException;
import io.tidemark.functions.runtime.ApiGatewayProxy;
import io.tidemark.functions.runtime.AwsClients;
import io.tidemark.functions.runtime.FunctionConfig;
import io.tidemark.functions.runtime.PrimingEvents;
import io.tidemark.functions.runtime.SnapStartHooks;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * {@code POST /stanzas/{stanza}/expire} with {@code {"dryRun": true, "retention": {...}}}: what a
 * retention run would remove now and the window after it, for {@code tidemark expire --dry-run}.
 *
 * <p>Only dry runs: nodes call this API, and nodes may not delete. A body without
 * {@code "dryRun": true} is refused (400) with a message saying where retention does run (daily,
 * after each valid backup, or by invoking the retention function with the operator's own rights).
 * The function behind this route gets read-only access to the bucket.
 */
public final class ExpireApiHandler implements RequestStreamHandler, AutoCloseable {


    static final String ONLY_DRY_RUN = "this API only previews retention: send {\"dryRun\": true}. Nodes may not "
            + "delete; retention runs daily and after each validated backup, or now by invoking the retention "
            + "function (aws lambda invoke --function-name <RetentionFunction> --payload '{\"stanza\":\"...\"}')";

    private final AwsClients aws;
    private final RetentionService service;
    private final SnapStartHooks snapStart;

    public ExpireApiHandler() {
        this(FunctionConfig.fromEnvironment());
    }

    public ExpireApiHandler(FunctionConfig config) {
        this.aws = AwsClients.create(config);
        this.service = RetentionHandler.service(config, aws, io.tidemark.functions.metrics.MetricsPublisher.NONE);
        this.snapStart = SnapStartHooks.register(aws, this::prime);
    }

    /**
     * SnapStart priming: a request through the whole handler with a method no route serves, so
     * the answer is a 405 made without S3 or DynamoDB.
     */
    void prime() {
        handleRequest(new java.io.ByteArrayInputStream(PrimingEvents.apiRequest("PATCH", ApiRoute.EXPIRE.template(),
                "/stanzas/priming/expire", java.util.Map.of("stanza", "priming"), "{\"dryRun\": true}")),
                OutputStream.nullOutputStream(), null);
    }

    SnapStartHooks snapStart() {
        return snapStart;
    }

    @Override
    public void handleRequest(InputStream input, OutputStream output, Context context) {
        ApiGatewayProxy.serve(input, output, context, this::handle, "expire request");
    }

    ApiGatewayProxy.Response handle(ApiGatewayProxy.Request request) {
        String resource = request.resource() == null ? ApiRoute.EXPIRE.template() : request.resource();
        if (ApiRoute.find(request.httpMethod(), resource).orElse(null) != ApiRoute.EXPIRE) {
            return ApiGatewayProxy.Response.notRouted(request.httpMethod(), resource);
        }
        String stanza = request.pathParameter("stanza").orElse(null);
        if (stanza == null) {
            return ApiGatewayProxy.Response.message(400, "the path has no {stanza}");
        }
        RetentionRequest r;
        try {
            r = RetentionRequest.parse(request.bodyBytes(), stanza);
        } catch (IllegalArgumentException e) {
            return ApiGatewayProxy.Response.message(400, e.getMessage());
        }
        if (!r.dryRun()) {
            return ApiGatewayProxy.Response.message(400, ONLY_DRY_RUN);
        }
        try {
            return ApiGatewayProxy.Response.json(200, RetentionJson.result(service.run(r.stanza(), r.policy(), true, r.confirm())).toString());
        } catch (UnknownStanzaException e) {
            return ApiGatewayProxy.Response.message(404, "no stanza '" + r.stanza().value() + "'; run tidemark stanza-create");
        }
    }

    @Override
    public void close() {
        aws.close();
    }
}
