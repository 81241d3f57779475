package io.tidemark.functions.plan;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestStreamHandler;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tidemark.events.api.ApiFunction;
import io.tidemark.events.api.ApiRoute;
import io.tidemark.events.json.Json;
import io.tidemark.events.sign.DocumentSigner;
import io.tidemark.functions.aws.DynamoDbCatalogStore;
import io.tidemark.functions.aws.KmsSigner;
import io.tidemark.functions.aws.S3ObjectStore;
import io.tidemark.functions.catalog.CatalogException;
import io.tidemark.functions.runtime.ApiGatewayProxy;
import io.tidemark.functions.runtime.AwsClients;
import io.tidemark.functions.runtime.FunctionConfig;
import io.tidemark.functions.runtime.PrimingEvents;
import io.tidemark.functions.runtime.SnapStartHooks;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import io.tidemark.functions.window.WindowJson;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;

/**
 * The planner's API routes (API Gateway REST proxy integration, IAM authorization):
 * <ul>
 *   <li>{@code POST /stanzas/{stanza}/restore-plans}: 201 {@code {"plan": <signed envelope>, "urls":
 *       {key: url}, "urlsExpireAt"}}; 400 bad input; 404 unknown stanza; 422 {@code {"message",
 *       "window", "nearest": {"before", "after"}}};</li>
 *   <li>{@code GET /restore-plans/{id}/urls}: 200 {@code {"planId", "urls", "urlsExpireAt"}}; 404
 *       unknown; 410 expired; 403 another principal's plan.</li>
 * </ul>
 *
 * <p>Settings: {@value #PLAN_KEY_ID} (KMS key: signs with KMS) or {@value #PLAN_PRIVATE_KEY_FILE}
 * (a PEM file with the private and public key, local-cloud); {@value #URL_TTL_MINUTES} (default 60);
 * {@value #PLAN_TTL_MINUTES} (default 60: a restore must start within it); {@value #PLAN_RENEWAL_HOURS}
 * (default 24: URL renewal for a running restore after that); {@value #MAX_WAL} (WAL segments listed in a plan, default 1000).
 */
public final class RestorePlanHandler implements RequestStreamHandler, AutoCloseable {

    private static final System.Logger LOG = System.getLogger(RestorePlanHandler.class.getName());
    private static final ObjectMapper MAPPER = Json.mapper();

    public static final String PLAN_KEY_ID = "TIDEMARK_PLAN_KEY_ID";
    public static final String PLAN_PRIVATE_KEY_FILE = "TIDEMARK_PLAN_PRIVATE_KEY_FILE";
    public static final String URL_TTL_MINUTES = "TIDEMARK_PLAN_URL_TTL_MINUTES";
    public static final String PLAN_TTL_MINUTES = "TIDEMARK_PLAN_TTL_MINUTES";
    public static final String PLAN_RENEWAL_HOURS = "TIDEMARK_PLAN_RENEWAL_HOURS";
    public static final String MAX_WAL = "TIDEMARK_PLAN_MAX_WAL";


    private final AwsClients aws;
    private final RestorePlanner planner;
    private final FunctionConfig config;
    private final SnapStartHooks snapStart;

    public RestorePlanHandler() {
        this(FunctionConfig.fromEnvironment());
    }

    public RestorePlanHandler(FunctionConfig config) {
        this.aws = AwsClients.create(config);
        DocumentSigner signer = signer(config, aws);
        this.planner = new RestorePlanner(new DynamoDbCatalogStore(aws.dynamoDb(), config.table()),
                new S3ObjectStore(aws.s3(), config.bucket()), signer, new io.tidemark.functions.aws.SigV4UrlSigner(aws.credentialsProvider(), config.region(), config.bucket(),
                        config.s3Endpoint().orElse(null), config.s3PathStyle(), Clock.systemUTC()),
                Clock.systemUTC(), settings(config));
        this.config = config;
        this.snapStart = SnapStartHooks.register(aws, this::prime);
    }

    /** For tests: a handler over any planner. */
    RestorePlanHandler(RestorePlanner planner) {
        this.aws = null;
        this.planner = planner;
        this.config = null;
        this.snapStart = null;
    }

    /**
     * SnapStart priming without a service call: both routes with a method they do not serve
     * (read, route, a 405 written), a representative plan request parsed, and URLs presigned
     * by a signer of its own with dummy keys (the function's credentials resolve nothing before
     * the snapshot). Plan signing is primed through the KMS client by the SDK priming; a local
     * PEM key is not used here: an ECDSA signature would seed the JDK's default SecureRandom
     * into the snapshot.
     */
    void prime() {
        for (ApiRoute route : List.of(ApiRoute.PLAN_CREATE, ApiRoute.PLAN_URLS)) {
            String resource = route.template();
            String path = resource.replace("{stanza}", "priming").replace("{id}", "priming");
            handleRequest(new ByteArrayInputStream(PrimingEvents.apiRequest("PATCH", resource, path,
                    Map.of("stanza", "priming", "id", "priming"), null)), OutputStream.nullOutputStream(), null);
        }
        PlanRequest.parse("{\"target\": {\"type\": \"time\", \"value\": \"2026-01-01 00:00:00+00\"}, \"timeline\": \"latest\", \"action\": \"promote\"}"
                .getBytes(StandardCharsets.UTF_8));
        new io.tidemark.functions.aws.SigV4UrlSigner(
                StaticCredentialsProvider.create(AwsBasicCredentials.create("AKIDPRIMINGONLY00000", "priming-only")),
                config.region(), config.bucket(), config.s3Endpoint().orElse(null), config.s3PathStyle(), Clock.systemUTC())
                .presignAll(List.of("priming/wal/0000000100000000/000000010000000000000001.zst",
                        "priming/backup/20260101-000000F/manifest.json"), Duration.ofMinutes(5));
    }

    SnapStartHooks snapStart() {
        return snapStart;
    }

    static DocumentSigner signer(FunctionConfig config, AwsClients aws) {
        var kmsKey = config.setting(PLAN_KEY_ID);
        if (kmsKey.isPresent()) {
            return new KmsSigner(aws.kms(), kmsKey.get());
        }
        var file = config.setting(PLAN_PRIVATE_KEY_FILE);
        if (file.isPresent()) {
            return PemFileSigner.read(Path.of(file.get()));
        }
        throw new IllegalArgumentException("the restore planner needs a signing key: set " + PLAN_KEY_ID
                + " (KMS) or " + PLAN_PRIVATE_KEY_FILE + " (local PEM file)");
    }

    static RestorePlanner.Settings settings(FunctionConfig config) {
        RestorePlanner.Settings d = RestorePlanner.Settings.DEFAULT;
        return new RestorePlanner.Settings(
                Duration.ofMinutes(positive(config, URL_TTL_MINUTES, d.urlTtl().toMinutes())),
                Duration.ofMinutes(positive(config, PLAN_TTL_MINUTES, d.planTtl().toMinutes())),
                Duration.ofHours(positive(config, PLAN_RENEWAL_HOURS, d.renewalWindow().toHours())),
                (int) positive(config, MAX_WAL, d.maxWal()), d.maxXidScans());
    }

    private static long positive(FunctionConfig config, String name, long fallback) {
        return config.setting(name).map(v -> {
            try {
                long n = Long.parseLong(v);
                if (n > 0) {
                    return n;
                }
            } catch (NumberFormatException e) {
                // below
            }
            throw new IllegalArgumentException(name + "='" + v + "' must be a positive whole number");
        }).orElse(fallback);
    }

    @Override
    public void handleRequest(InputStream input, OutputStream output, Context context) {
        ApiGatewayProxy.serve(input, output, context, this::handle, "restore plan request");
    }

    ApiGatewayProxy.Response handle(ApiGatewayProxy.Request request) {
        String method = request.httpMethod() == null ? "" : request.httpMethod().toUpperCase(Locale.ROOT);
        String caller = request.requestContext() == null || request.requestContext().identity() == null ? null
                : request.requestContext().identity().userArn();
        String resource = request.resource() == null ? ApiRoute.PLAN_CREATE.template() : request.resource();
        ApiRoute route = ApiRoute.find(method, resource).filter(r -> r.function() == ApiFunction.RESTORE_PLAN)
                .orElse(null);
        if (route == null) {
            return ApiGatewayProxy.Response.notRouted(method, resource);
        }
        try {
            if (route == ApiRoute.PLAN_URLS) {
                RestorePlanner.Renewed r = planner.renew(request.pathParameter("id").orElse(null), caller,
                        request.queryParameter("stanza").orElse(null));
                ObjectNode n = MAPPER.createObjectNode();
                n.put("planId", r.planId());
                n.set("urls", MAPPER.valueToTree(r.urls()));
                n.put("urlsExpireAt", r.urlsExpireAt().toString());
                return ApiGatewayProxy.Response.json(200, n.toString());
            }
            String stanza = request.pathParameter("stanza").orElse(null);
            if (stanza == null) {
                return ApiGatewayProxy.Response.message(400, "the path has no {stanza}");
            }
            RestorePlanner.Created c = planner.create(stanza, PlanRequest.parse(request.bodyBytes()), caller);
            ObjectNode n = MAPPER.createObjectNode();
            n.set("plan", c.envelope());
            n.set("urls", MAPPER.valueToTree(c.urls()));
            n.put("urlsExpireAt", c.urlsExpireAt().toString());
            LOG.log(System.Logger.Level.INFO, "plan {0} for stanza {1}: backup {2}, timeline {3}, {4} files, {5} WAL",
                    c.plan().planId(), stanza, c.plan().backupLabel(), c.plan().timeline(), c.plan().files().size(),
                    c.plan().wal().size());
            return ApiGatewayProxy.Response.json(201, n.toString());
        } catch (TargetUnreachableException e) {
            ObjectNode n = MAPPER.createObjectNode();
            n.put("message", e.getMessage());
            n.set("window", WindowJson.window(e.window()));
            ObjectNode nearest = n.putObject("nearest");
            nearest.set("before", e.before() == null ? MAPPER.nullNode() : WindowJson.point(e.before()));
            nearest.set("after", e.after() == null ? MAPPER.nullNode() : WindowJson.point(e.after()));
            return ApiGatewayProxy.Response.json(422, n.toString());
        } catch (CatalogException e) {
            int status = switch (e.kind()) {
                case BAD_REQUEST -> 400;
                case CONFLICT -> 409;
                case NOT_FOUND -> 404;
                case GONE -> 410;
                case FORBIDDEN -> 403;
            };
            return ApiGatewayProxy.Response.message(status, e.getMessage());
        }
    }

    static Map<String, String> none() {
        return Map.of();
    }

    @Override
    public void close() {
        if (aws != null) {
            aws.close();
        }
    }
}
