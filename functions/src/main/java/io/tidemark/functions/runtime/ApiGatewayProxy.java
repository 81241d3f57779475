package io.tidemark.functions.runtime;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tidemark.events.api.ApiRoute;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The API Gateway REST API (v1) Lambda proxy integration: the request event a handler receives
 * and the response it returns, with Jackson read and write. Shapes follow the AWS documentation
 * of the proxy integration input and output formats; fields Tidemark does not use are ignored.
 */
public final class ApiGatewayProxy {

    private ApiGatewayProxy() {
    }

    /** The proxy request event. Maps are null when API Gateway sends null (no headers, no query). */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Request(
            String resource,
            String path,
            String httpMethod,
            Map<String, String> headers,
            Map<String, List<String>> multiValueHeaders,
            Map<String, String> queryStringParameters,
            Map<String, List<String>> multiValueQueryStringParameters,
            Map<String, String> pathParameters,
            Map<String, String> stageVariables,
            RequestContext requestContext,
            String body,
            @JsonProperty("isBase64Encoded") boolean isBase64Encoded) {

        /** A header, matched without regard to case as HTTP requires. */
        public Optional<String> header(String name) {
            if (headers == null) {
                return Optional.empty();
            }
            for (Map.Entry<String, String> e : headers.entrySet()) {
                if (e.getKey() != null && e.getKey().equalsIgnoreCase(name)) {
                    return Optional.ofNullable(e.getValue());
                }
            }
            return Optional.empty();
        }

        public Optional<String> pathParameter(String name) {
            return pathParameters == null ? Optional.empty() : Optional.ofNullable(pathParameters.get(name));
        }

        public Optional<String> queryParameter(String name) {
            return queryStringParameters == null
                    ? Optional.empty()
                    : Optional.ofNullable(queryStringParameters.get(name));
        }

        /** The body bytes: base64-decoded when {@code isBase64Encoded}, else UTF-8; empty when absent. */
        public byte[] bodyBytes() {
            if (body == null) {
                return new byte[0];
            }
            return isBase64Encoded ? Base64.getDecoder().decode(body) : body.getBytes(StandardCharsets.UTF_8);
        }
    }

    /** {@code requestContext}: who called, through which stage and resource. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record RequestContext(
            String accountId,
            String apiId,
            String resourceId,
            String stage,
            String requestId,
            String resourcePath,
            String httpMethod,
            String path,
            String protocol,
            Long requestTimeEpoch,
            Identity identity) {
    }

    /** {@code requestContext.identity}; with IAM authorization {@code userArn} names the caller. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Identity(
            String sourceIp,
            String userAgent,
            String userArn,
            String caller,
            String accountId,
            String accessKey,
            String user) {
    }

    /** The proxy response a handler writes. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Response(
            int statusCode,
            Map<String, String> headers,
            Map<String, List<String>> multiValueHeaders,
            String body,
            @JsonProperty("isBase64Encoded") boolean isBase64Encoded) {

        /** A JSON response; {@code json} is the body text. */
        public static Response json(int statusCode, String json) {
            return new Response(statusCode, Map.of("Content-Type", "application/json"), null, json, false);
        }

        /** {@code {"message": "..."}}, the error shape API Gateway itself uses. */
        public static Response message(int statusCode, String message) {
            ObjectNode node = RuntimeJson.MAPPER.createObjectNode().put("message", message);
            return json(statusCode, node.toString());
        }

        /**
         * The answer to a call no route of the API table serves ({@code ApiRoute}): 405 with the
         * methods the resource has ({@code Allow}) when it is a resource of the API, else 404. API
         * Gateway answers these itself; a handler meets them only when called directly.
         */
        public static Response notRouted(String method, String resource) {
            String allow = ApiRoute.allowedOn(resource);
            if (allow.isEmpty()) {
                return message(404, "no route " + resource);
            }
            return message(405, "method " + method + " is not allowed on " + resource).withHeader("Allow", allow);
        }

        /** A binary body, base64-encoded as the proxy integration requires. */
        public static Response binary(int statusCode, String contentType, byte[] body) {
            return new Response(statusCode, Map.of("Content-Type", contentType), null,
                    Base64.getEncoder().encodeToString(body), true);
        }

        /** Adds or replaces one header. */
        public Response withHeader(String name, String value) {
            Map<String, String> h = headers == null ? new LinkedHashMap<>() : new LinkedHashMap<>(headers);
            h.put(name, value);
            return new Response(statusCode, h, multiValueHeaders, body, isBase64Encoded);
        }

        /** The body bytes: base64-decoded when {@code isBase64Encoded}, else UTF-8; empty when absent. */
        public byte[] bodyBytes() {
            if (body == null) {
                return new byte[0];
            }
            return isBase64Encoded ? Base64.getDecoder().decode(body) : body.getBytes(StandardCharsets.UTF_8);
        }
    }

    public static Request readRequest(InputStream in) {
        try {
            return RuntimeJson.MAPPER.readValue(in, Request.class);
        } catch (IOException e) {
            throw new UncheckedIOException("not an API Gateway proxy request: " + e.getMessage(), e);
        }
    }

    public static Request readRequest(byte[] json) {
        try {
            return RuntimeJson.MAPPER.readValue(json, Request.class);
        } catch (IOException e) {
            throw new UncheckedIOException("not an API Gateway proxy request: " + e.getMessage(), e);
        }
    }

    public static byte[] writeRequest(Request request) {
        try {
            return RuntimeJson.MAPPER.writeValueAsBytes(request);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static Response readResponse(InputStream in) {
        try {
            return RuntimeJson.MAPPER.readValue(in, Response.class);
        } catch (IOException e) {
            throw new UncheckedIOException("not an API Gateway proxy response: " + e.getMessage(), e);
        }
    }

    public static Response readResponse(byte[] json) {
        try {
            return RuntimeJson.MAPPER.readValue(json, Response.class);
        } catch (IOException e) {
            throw new UncheckedIOException("not an API Gateway proxy response: " + e.getMessage(), e);
        }
    }

    /** Writes the response JSON; does not close {@code out}. */
    public static void writeResponse(Response response, OutputStream out) {
        try {
            out.write(RuntimeJson.MAPPER.writeValueAsBytes(response));
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * What every API handler does with a request: read it, answer it with {@code handler}, and
     * turn an unexpected failure into a logged 500 (the caller learns nothing internal).
     *
     * @param what the request kind, for the log ("catalog request", "restore plan request")
     */
    public static void serve(InputStream input, OutputStream output,
                             java.util.function.Function<Request, Response> handler, String what) {
        serve(input, output, null, handler, what);
    }

    /**
     * As {@link #serve(InputStream, OutputStream, java.util.function.Function, String)}, with the
     * invocation's log context ({@link FunctionLog}: request id, and the path's {@code {stanza}}).
     */
    public static void serve(InputStream input, OutputStream output, com.amazonaws.services.lambda.runtime.Context context,
                             java.util.function.Function<Request, Response> handler, String what) {
        try (FunctionLog.Invocation log = FunctionLog.begin(context)) {
            answer(input, output, handler, what);
        }
    }

    private static void answer(InputStream input, OutputStream output,
                               java.util.function.Function<Request, Response> handler, String what) {
        Response response;
        try {
            Request request = readRequest(input);
            request.pathParameter("stanza").ifPresent(FunctionLog::stanza);
            response = handler.apply(request);
        } catch (RuntimeException e) {
            System.getLogger(ApiGatewayProxy.class.getName()).log(System.Logger.Level.ERROR, what + " failed", e);
            response = Response.message(500, "internal error");
        }
        writeResponse(response, output);
    }
}
