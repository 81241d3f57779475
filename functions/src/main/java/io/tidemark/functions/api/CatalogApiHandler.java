package io.tidemark.functions.api;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestStreamHandler;
import io.tidemark.functions.aws.DynamoDbCatalogStore;
import io.tidemark.functions.aws.S3ObjectStore;
import io.tidemark.functions.catalog.CatalogException;
import io.tidemark.functions.catalog.CatalogService;
import io.tidemark.functions.runtime.ApiGatewayProxy;
import io.tidemark.functions.runtime.AwsClients;
import io.tidemark.functions.runtime.FunctionConfig;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Clock;
import java.util.Locale;

/**
 * API Gateway (REST, proxy integration) routes of the catalog:
 * <ul>
 *   <li>{@code PUT /stanzas/{stanza}}: stanza-create; 200 with {@code created}, 400, 409;</li>
 *   <li>{@code GET /stanzas/{stanza}}: the stanza with its timelines, WAL ranges and gaps; 404.</li>
 * </ul>
 * Errors are {@code {"message": "..."}}.
 */
public final class CatalogApiHandler implements RequestStreamHandler, AutoCloseable {

    private static final System.Logger LOG = System.getLogger(CatalogApiHandler.class.getName());

    private final AwsClients aws;
    private final CatalogService service;

    public CatalogApiHandler() {
        this(FunctionConfig.fromEnvironment());
    }

    public CatalogApiHandler(FunctionConfig config) {
        this.aws = AwsClients.create(config);
        this.service = new CatalogService(new DynamoDbCatalogStore(aws.dynamoDb(), config.table()),
                new S3ObjectStore(aws.s3(), config.bucket()), Clock.systemUTC());
    }

    /** For tests: a handler over any service. */
    CatalogApiHandler(CatalogService service) {
        this.aws = null;
        this.service = service;
    }

    @Override
    public void handleRequest(InputStream input, OutputStream output, Context context) {
        ApiGatewayProxy.Response response;
        try {
            response = handle(ApiGatewayProxy.readRequest(input));
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, "catalog request failed", e);
            response = ApiGatewayProxy.Response.message(500, "internal error");
        }
        ApiGatewayProxy.writeResponse(response, output);
    }

    ApiGatewayProxy.Response handle(ApiGatewayProxy.Request request) {
        String method = request.httpMethod() == null ? "" : request.httpMethod().toUpperCase(Locale.ROOT);
        String stanza = request.pathParameter("stanza").orElse(null);
        if (stanza == null) {
            return ApiGatewayProxy.Response.message(400, "the path has no {stanza}");
        }
        try {
            return switch (method) {
                case "PUT" -> ok(CatalogJson.created(service.createStanza(stanza, request.bodyBytes())).toString());
                case "GET" -> ok(CatalogJson.stanza(service.describe(stanza)).toString());
                default -> ApiGatewayProxy.Response.message(405, "method " + method + " is not allowed on /stanzas/{stanza}")
                        .withHeader("Allow", "GET, PUT");
            };
        } catch (CatalogException e) {
            int status = switch (e.kind()) {
                case BAD_REQUEST -> 400;
                case CONFLICT -> 409;
                case NOT_FOUND -> 404;
            };
            return ApiGatewayProxy.Response.message(status, e.getMessage());
        }
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
