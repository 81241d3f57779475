package io.tidemark.localcloud;

import com.amazonaws.services.lambda.runtime.RequestStreamHandler;
import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import io.tidemark.functions.runtime.ApiGatewayProxy;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The local stand-in for the API Gateway REST API: each HTTP request becomes a Lambda proxy
 * integration event (resource template, path parameters, query, headers, body) for the function
 * of the matching route, and the function's proxy response becomes the HTTP response.
 *
 * <p>With enforcement on ({@link ApiGate}), each request to a method the stack marks
 * {@code ApiKeyRequired} must carry an issued {@code x-api-key} within its throttle, and each must carry a valid SigV4 signature of a
 * key local-cloud issued and be allowed {@code execute-api:Invoke}, and
 * {@code requestContext.identity} names the caller as API Gateway does for IAM authorization;
 * without it, requests are not authenticated and {@code requestContext.identity.userArn} is null.
 * Not emulated:
 * stages in the URL (the local API has no {@code /prod} prefix); binary media type settings (a
 * body that is not UTF-8 text is passed base64-encoded); the 29 s integration timeout. An unknown
 * route answers 404 {@code {"message":"Not Found"}}; a function that fails or answers something
 * that is not a proxy response gives 502 {@code {"message":"Internal server error"}}, as API
 * Gateway does.
 */
final class LocalApi implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(LocalApi.class);
    static final String STAGE = "local";
    private static final Duration FUNCTION_TIMEOUT = Duration.ofSeconds(29);

    /** One route: method ({@code ANY} for all) and resource template to a function instance. */
    record Route(String method, RouteTemplate template, String functionName, RequestStreamHandler handler) {
    }

    private final LocalHttpServer http;
    private final List<Route> routes;
    private final String region;
    private final URI url;
    private final ApiGate gate;

    private LocalApi(LocalHttpServer http, List<Route> routes, String region, URI url,
            ApiGate gate) {
        this.http = http;
        this.routes = routes;
        this.region = region;
        this.url = url;
        this.gate = gate;
    }

    static LocalApi start(String host, int port, String region, List<Route> routes) {
        return start(host, port, region, routes, null);
    }

    /** As above; with {@code gate}, every request is authenticated and authorized first. */
    static LocalApi start(String host, int port, String region, List<Route> routes, ApiGate gate) {
        List<Route> ordered = new ArrayList<>(routes);
        ordered.sort(Comparator.comparing(Route::template, RouteTemplate::compareSpecificity));
        LocalHttpServer http = LocalHttpServer.bind("API", "the local API", host, port, 64, 8);
        URI url = http.uri();
        LocalApi api = new LocalApi(http, List.copyOf(ordered), region, url, gate);
        http.start(api::handle);
        return api;
    }

    URI url() {
        return url;
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            ApiGatewayProxy.Response response;
            try {
                response = dispatch(exchange);
            } catch (Exception e) {
                LOG.error("local API: {} {} failed", exchange.getRequestMethod(), exchange.getRequestURI(), e);
                response = ApiGatewayProxy.Response.message(502, "Internal server error");
            }
            write(exchange, response);
        }
    }

    private ApiGatewayProxy.Response dispatch(HttpExchange exchange) throws IOException {
        String method = exchange.getRequestMethod().toUpperCase(Locale.ROOT);
        String rawPath = exchange.getRequestURI().getRawPath();
        Route route = null;
        Map<String, String> pathParameters = null;
        for (Route r : routes) {
            if (!r.method().equals("ANY") && !r.method().equals(method)) {
                continue;
            }
            Map<String, String> params = r.template().match(rawPath);
            if (params != null) {
                route = r;
                pathParameters = params;
                break;
            }
        }
        byte[] body = exchange.getRequestBody().readAllBytes();
        if (route == null) {
            return ApiGatewayProxy.Response.message(404, "Not Found")
                    .withHeader("x-amzn-ErrorType", "NotFoundException");
        }
        SessionKeys.Key caller = null;
        if (gate != null) {
            ApiGate.Verdict verdict = gate.check(method, rawPath, exchange.getRequestURI().getRawQuery(),
                    route.template().template(), pathParameters, exchange.getRequestHeaders(), body, decodePath(rawPath));
            if (verdict instanceof ApiGate.Verdict.Refuse refuse) {
                return refuse.response();
            }
            caller = ((ApiGate.Verdict.Pass) verdict).key();
        }
        ApiGatewayProxy.Request event = toEvent(exchange, method, route, pathParameters, body, caller);
        LocalLambdaContext context = new LocalLambdaContext(route.functionName(), region, FUNCTION_TIMEOUT);
        byte[] out;
        try {
            out = LocalLambdaContext.invoke(route.handler(), ApiGatewayProxy.writeRequest(event), context);
        } catch (Exception e) {
            LOG.error("function {} failed on {} {}", route.functionName(), method, rawPath, e);
            return ApiGatewayProxy.Response.message(502, "Internal server error");
        }
        ApiGatewayProxy.Response response;
        try {
            response = ApiGatewayProxy.readResponse(out);
        } catch (RuntimeException e) {
            LOG.error("function {} did not answer an API Gateway proxy response on {} {}: {}",
                    route.functionName(), method, rawPath, e.getMessage());
            return ApiGatewayProxy.Response.message(502, "Internal server error");
        }
        if (response.statusCode() < 100 || response.statusCode() > 599) {
            LOG.error("function {} answered status code {}", route.functionName(), response.statusCode());
            return ApiGatewayProxy.Response.message(502, "Internal server error");
        }
        return response;
    }

    private ApiGatewayProxy.Request toEvent(HttpExchange exchange, String method, Route route,
            Map<String, String> pathParameters, byte[] body, SessionKeys.Key caller) {
        Map<String, String> headers = new LinkedHashMap<>();
        Map<String, List<String>> multiHeaders = new LinkedHashMap<>();
        exchange.getRequestHeaders().forEach((name, values) -> {
            if (!values.isEmpty()) {
                headers.put(name, values.get(values.size() - 1));
                multiHeaders.put(name, List.copyOf(values));
            }
        });
        Map<String, String> query = new LinkedHashMap<>();
        Map<String, List<String>> multiQuery = new LinkedHashMap<>();
        String rawQuery = exchange.getRequestURI().getRawQuery();
        if (rawQuery != null && !rawQuery.isEmpty()) {
            for (String pair : rawQuery.split("&")) {
                if (pair.isEmpty()) {
                    continue;
                }
                int eq = pair.indexOf('=');
                String name = decodeQuery(eq < 0 ? pair : pair.substring(0, eq));
                String value = eq < 0 ? "" : decodeQuery(pair.substring(eq + 1));
                query.put(name, value);
                multiQuery.computeIfAbsent(name, k -> new ArrayList<>()).add(value);
            }
        }
        String path = decodePath(exchange.getRequestURI().getRawPath());
        String text = body.length == 0 ? null : textOrNull(body, headers);
        String bodyField = body.length == 0 ? null : text != null ? text : Base64.getEncoder().encodeToString(body);
        boolean base64 = body.length != 0 && text == null;
        String sourceIp = exchange.getRemoteAddress() == null
                ? "127.0.0.1" : exchange.getRemoteAddress().getAddress().getHostAddress();
        ApiGatewayProxy.Identity identity = caller != null
                ? ApiGate.identity(caller, sourceIp, header(headers, "User-Agent"))
                : new ApiGatewayProxy.Identity(sourceIp, header(headers, "User-Agent"), null, null, null, null, null);
        ApiGatewayProxy.RequestContext context = new ApiGatewayProxy.RequestContext(
                LocalLambdaContext.ACCOUNT_ID, "local", "local", STAGE, UUID.randomUUID().toString(),
                route.template().template(), method, "/" + STAGE + path, exchange.getProtocol(),
                System.currentTimeMillis(), identity);
        return new ApiGatewayProxy.Request(
                route.template().template(),
                path,
                method,
                headers.isEmpty() ? null : headers,
                multiHeaders.isEmpty() ? null : multiHeaders,
                query.isEmpty() ? null : query,
                multiQuery.isEmpty() ? null : copyLists(multiQuery),
                pathParameters.isEmpty() ? null : pathParameters,
                null,
                context,
                bodyField,
                base64);
    }

    private static Map<String, List<String>> copyLists(Map<String, List<String>> m) {
        Map<String, List<String>> copy = new LinkedHashMap<>();
        m.forEach((k, v) -> copy.put(k, List.copyOf(v)));
        return copy;
    }

    private static String header(Map<String, String> headers, String name) {
        for (Map.Entry<String, String> e : headers.entrySet()) {
            if (e.getKey().equalsIgnoreCase(name)) {
                return e.getValue();
            }
        }
        return null;
    }

    /** The body as text when it is declared (or taken to be) text and is valid UTF-8; else null. */
    private static String textOrNull(byte[] body, Map<String, String> headers) {
        String type = header(headers, "Content-Type");
        if (type != null) {
            String t = type.toLowerCase(Locale.ROOT);
            boolean textual = t.startsWith("text/") || t.contains("json") || t.contains("xml")
                    || t.contains("x-www-form-urlencoded") || t.contains("javascript");
            if (!textual) {
                return null;
            }
        }
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(body))
                    .toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }

    private static String decodeQuery(String s) {
        try {
            return URLDecoder.decode(s, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return s;
        }
    }

    private static String decodePath(String rawPath) {
        String[] parts = rawPath.split("/", -1);
        List<String> decoded = new ArrayList<>(parts.length);
        for (String p : parts) {
            String d = RouteTemplate.decode(p);
            decoded.add(d == null ? p : d);
        }
        return String.join("/", decoded);
    }

    private static void write(HttpExchange exchange, ApiGatewayProxy.Response response) throws IOException {
        Headers out = exchange.getResponseHeaders();
        if (response.multiValueHeaders() != null) {
            response.multiValueHeaders().forEach((k, v) -> {
                if (k != null && v != null) {
                    out.put(k, new ArrayList<>(v));
                }
            });
        }
        if (response.headers() != null) {
            response.headers().forEach((k, v) -> {
                if (k != null && v != null) {
                    out.set(k, v);
                }
            });
        }
        byte[] body = response.bodyBytes();
        boolean noBody = body.length == 0 || exchange.getRequestMethod().equalsIgnoreCase("HEAD")
                || response.statusCode() == 204 || response.statusCode() == 304;
        exchange.sendResponseHeaders(response.statusCode(), noBody ? -1 : body.length);
        if (!noBody) {
            try (OutputStream os = exchange.getResponseBody()) {
                os.write(body);
            }
        }
    }

    @Override
    public void close() {
        http.close();
    }
}
