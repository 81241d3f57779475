package io.tidemark.testkit.aws;

import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.function.Function;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * A small AWS stand-in that checks every request's Signature Version 4 (header or presigned query)
 * as AWS does and refuses what AWS refuses: an unknown key, a token that is not the key's, a bad
 * signature, a presigned URL past its {@code X-Amz-Expires}, and an expired key with each
 * service's own error (S3: 400 {@code ExpiredToken}; DynamoDB: 400 {@code ExpiredTokenException};
 * API Gateway: 403 "The security token included in the request is expired"). Behind the check:
 * S3 objects in memory (PUT with {@code If-None-Match: *}, GET with a byte range, HEAD, metadata),
 * {@code {}} for DynamoDB, and a pluggable answer for {@code execute-api}.
 *
 * <p>The signature is recomputed here with the JDK's own SHA-256 and HMAC, independently of the
 * clients under test (the shim's SigV4, the AWS SDK's signer).
 */
public final class SigningStandIn implements AutoCloseable {

    /** What the stand-in knows of a key. */
    public record Key(String secret, String token, Instant expiration) {
    }

    /** Looks keys up by id (a {@link RotatingCredentials}, or fixed keys). */
    @FunctionalInterface
    public interface Keys {
        Optional<Key> lookup(String accessKeyId);
    }

    /** One request that passed the check. */
    public record Accepted(String service, String method, String path, String accessKeyId) {
    }

    /** An {@code execute-api} answer. */
    public record ApiAnswer(int status, String json) {
    }

    private static final DateTimeFormatter AMZ_DATE = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'");
    private static final Set<String> UNRESERVED_EXTRA = Set.of("-", "_", ".", "~");

    private final HttpServer server;
    private final Keys keys;
    private final Map<String, byte[]> objects = new ConcurrentHashMap<>();
    private final Map<String, Map<String, String>> metadata = new ConcurrentHashMap<>();
    private final List<Accepted> accepted = new CopyOnWriteArrayList<>();
    private final List<String> refused = new CopyOnWriteArrayList<>();
    private volatile Function<String, ApiAnswer> api = path -> new ApiAnswer(200, "{\"path\":\"" + path + "\"}");

    public SigningStandIn(Keys keys) {
        this.keys = keys;
        try {
            server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        server.setExecutor(Executors.newFixedThreadPool(16));
        server.createContext("/", ex -> {
            try {
                handle(ex);
            } catch (RuntimeException e) {
                send(ex, 500, "text/plain", String.valueOf(e));
            } finally {
                ex.close();
            }
        });
        server.start();
    }

    public URI endpoint() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    /** What {@code execute-api} requests get (by path), once their signature passed. */
    public void api(Function<String, ApiAnswer> answer) {
        this.api = answer;
    }

    public List<Accepted> accepted() {
        return List.copyOf(accepted);
    }

    /** One line per refused request: code and reason. */
    public List<String> refused() {
        return List.copyOf(refused);
    }

    /** The distinct access key ids that signed accepted requests. */
    public Set<String> keysSeen() {
        Set<String> s = new java.util.LinkedHashSet<>();
        accepted.forEach(a -> s.add(a.accessKeyId()));
        return s;
    }

    /** Puts an object directly (path-style key {@code bucket/key}). */
    public void putObject(String bucketAndKey, byte[] body) {
        objects.put(bucketAndKey, body);
        metadata.put(bucketAndKey, Map.of());
    }

    public Optional<byte[]> object(String bucketAndKey) {
        return Optional.ofNullable(objects.get(bucketAndKey));
    }

    @Override
    public void close() {
        server.stop(0);
    }

    // ------------------------------------------------------------------ the check

    private record Auth(String accessKeyId, String date, String region, String service, List<String> signedHeaders,
                        String signature, String amzDate, String token, boolean presigned, long expires) {
    }

    private void handle(HttpExchange ex) throws IOException {
        byte[] body = ex.getRequestBody().readAllBytes();
        URI uri = ex.getRequestURI();
        Map<String, List<String>> query = parseQuery(uri.getRawQuery());
        Auth auth;
        try {
            auth = auth(ex.getRequestHeaders(), query);
        } catch (IllegalArgumentException e) {
            refuse(ex, "s3", 403, "AccessDenied", e.getMessage());
            return;
        }
        Optional<Key> key = keys.lookup(auth.accessKeyId());
        if (key.isEmpty()) {
            refuse(ex, auth.service(), 403, "InvalidAccessKeyId", "unknown key " + auth.accessKeyId());
            return;
        }
        if (!java.util.Objects.equals(key.get().token(), auth.token())) {
            refuse(ex, auth.service(), 403, "InvalidToken", "the token is not the one of key " + auth.accessKeyId());
            return;
        }
        Instant now = Instant.now();
        if (key.get().expiration() != null && !now.isBefore(key.get().expiration())) {
            refuse(ex, auth.service(), expiredStatus(auth.service()), "ExpiredToken", "key " + auth.accessKeyId()
                    + " expired at " + key.get().expiration());
            return;
        }
        Instant signedAt = LocalDateTime.parse(auth.amzDate(), AMZ_DATE).toInstant(ZoneOffset.UTC);
        if (auth.presigned() && now.isAfter(signedAt.plusSeconds(auth.expires()))) {
            refuse(ex, auth.service(), 403, "AccessDenied", "Request has expired");
            return;
        }
        String expected;
        try {
            expected = signature(ex.getRequestMethod(), uri, query, ex.getRequestHeaders(), auth,
                    payloadHash(ex.getRequestHeaders(), auth, body), key.get().secret());
        } catch (IllegalArgumentException e) {
            refuse(ex, auth.service(), 403, "SignatureDoesNotMatch", e.getMessage());
            return;
        }
        if (!expected.equals(auth.signature())) {
            refuse(ex, auth.service(), 403, "SignatureDoesNotMatch", "signature of " + ex.getRequestMethod() + " "
                    + uri.getRawPath() + " by " + auth.accessKeyId() + " does not match");
            return;
        }
        accepted.add(new Accepted(auth.service(), ex.getRequestMethod(), uri.getRawPath(), auth.accessKeyId()));
        switch (auth.service()) {
            case "s3" -> s3(ex, decodeChunks(ex.getRequestHeaders(), body));
            case "execute-api" -> {
                ApiAnswer a = api.apply(uri.getRawPath());
                send(ex, a.status(), "application/json", a.json());
            }
            default -> send(ex, 200, "application/x-amz-json-1.0", "{}");
        }
    }

    private static int expiredStatus(String service) {
        return service.equals("execute-api") ? 403 : 400;
    }

    private void refuse(HttpExchange ex, String service, int status, String code, String why) throws IOException {
        refused.add(code + ": " + why);
        switch (service) {
            case "execute-api" -> send(ex, status, "application/json", "{\"message\":\""
                    + (code.equals("ExpiredToken") ? "The security token included in the request is expired" : why) + "\"}");
            case "dynamodb" -> send(ex, status, "application/x-amz-json-1.0", "{\"__type\":\"com.amazon.coral.service#"
                    + (code.equals("ExpiredToken") ? "ExpiredTokenException" : code) + "\",\"message\":\""
                    + (code.equals("ExpiredToken") ? "The security token included in the request is expired" : why) + "\"}");
            default -> send(ex, status, "application/xml", "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>" + code
                    + "</Code><Message>" + (code.equals("ExpiredToken") ? "The provided token has expired." : why)
                    + "</Message></Error>");
        }
    }

    private static Auth auth(Headers h, Map<String, List<String>> query) {
        String header = h.getFirst("Authorization");
        if (header != null) {
            if (!header.startsWith("AWS4-HMAC-SHA256 ")) {
                throw new IllegalArgumentException("not AWS4-HMAC-SHA256: " + header);
            }
            Map<String, String> parts = new TreeMap<>();
            for (String p : header.substring("AWS4-HMAC-SHA256 ".length()).split(",")) {
                String[] kv = p.strip().split("=", 2);
                parts.put(kv[0], kv.length > 1 ? kv[1] : "");
            }
            String[] scope = parts.getOrDefault("Credential", "").split("/");
            if (scope.length != 5 || h.getFirst("x-amz-date") == null) {
                throw new IllegalArgumentException("malformed Authorization: " + header);
            }
            return new Auth(scope[0], scope[1], scope[2], scope[3], List.of(parts.get("SignedHeaders").split(";")),
                    parts.get("Signature"), h.getFirst("x-amz-date"), h.getFirst("x-amz-security-token"), false, 0);
        }
        if (query.containsKey("X-Amz-Signature")) {
            String[] scope = first(query, "X-Amz-Credential").split("/");
            if (scope.length != 5) {
                throw new IllegalArgumentException("malformed X-Amz-Credential");
            }
            return new Auth(scope[0], scope[1], scope[2], scope[3], List.of(first(query, "X-Amz-SignedHeaders").split(";")),
                    first(query, "X-Amz-Signature"), first(query, "X-Amz-Date"),
                    query.containsKey("X-Amz-Security-Token") ? first(query, "X-Amz-Security-Token") : null, true,
                    Long.parseLong(first(query, "X-Amz-Expires")));
        }
        throw new IllegalArgumentException("the request is not signed");
    }

    private static String first(Map<String, List<String>> q, String name) {
        List<String> v = q.get(name);
        if (v == null || v.isEmpty()) {
            throw new IllegalArgumentException("no " + name);
        }
        return v.get(0);
    }

    private static String payloadHash(Headers h, Auth auth, byte[] body) {
        String declared = h.getFirst("x-amz-content-sha256");
        if (declared != null) {
            if (declared.matches("[0-9a-f]{64}") && !declared.equals(hex(sha256(body)))) {
                throw new IllegalArgumentException("x-amz-content-sha256 does not match the body");
            }
            return declared;
        }
        return auth.presigned() && auth.service().equals("s3") ? "UNSIGNED-PAYLOAD" : hex(sha256(body));
    }

    private static String signature(String method, URI uri, Map<String, List<String>> query, Headers h, Auth auth,
                                    String payloadHash, String secret) {
        String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
        String canonicalPath = auth.service().equals("s3") ? path : encode(path, false);
        TreeMap<String, List<String>> sorted = new TreeMap<>();
        query.forEach((k, v) -> {
            if (!(auth.presigned() && k.equals("X-Amz-Signature"))) {
                List<String> values = new ArrayList<>();
                v.forEach(x -> values.add(encode(x, true)));
                values.sort(null);
                sorted.put(encode(k, true), values);
            }
        });
        StringBuilder q = new StringBuilder();
        sorted.forEach((k, vs) -> vs.forEach(v -> q.append(q.isEmpty() ? "" : "&").append(k).append('=').append(v)));
        StringBuilder headers = new StringBuilder();
        for (String name : auth.signedHeaders()) {
            List<String> values = h.get(name);
            if (values == null) {
                throw new IllegalArgumentException("signed header " + name + " is missing");
            }
            List<String> trimmed = values.stream().map(v -> v.strip().replaceAll(" +", " ")).toList();
            headers.append(name).append(':').append(String.join(",", trimmed)).append('\n');
        }
        String canonical = method + "\n" + canonicalPath + "\n" + q + "\n" + headers + "\n"
                + String.join(";", auth.signedHeaders()) + "\n" + payloadHash;
        String scope = auth.date() + "/" + auth.region() + "/" + auth.service() + "/aws4_request";
        String toSign = "AWS4-HMAC-SHA256\n" + auth.amzDate() + "\n" + scope + "\n"
                + hex(sha256(canonical.getBytes(StandardCharsets.UTF_8)));
        byte[] k = hmac(("AWS4" + secret).getBytes(StandardCharsets.UTF_8), auth.date());
        k = hmac(k, auth.region());
        k = hmac(k, auth.service());
        k = hmac(k, "aws4_request");
        return hex(hmac(k, toSign));
    }

    // ------------------------------------------------------------------ S3

    private void s3(HttpExchange ex, byte[] body) throws IOException {
        String key = URLDecoder.decode(ex.getRequestURI().getRawPath().substring(1).replace("+", "%2B"),
                StandardCharsets.UTF_8);
        switch (ex.getRequestMethod()) {
            case "PUT" -> {
                Map<String, String> meta = new TreeMap<>();
                ex.getRequestHeaders().forEach((n, v) -> {
                    String lower = n.toLowerCase(Locale.ROOT);
                    if (lower.startsWith("x-amz-meta-")) {
                        meta.put(lower, v.get(0));
                    }
                });
                if ("*".equals(ex.getRequestHeaders().getFirst("If-None-Match"))) {
                    if (objects.putIfAbsent(key, body) != null) {
                        send(ex, 412, "application/xml", "<Error><Code>PreconditionFailed</Code></Error>");
                        return;
                    }
                } else {
                    objects.put(key, body);
                }
                metadata.put(key, meta);
                ex.getResponseHeaders().add("ETag", "\"" + hex(sha256(body)).substring(0, 32) + "\"");
                ex.sendResponseHeaders(200, -1);
            }
            case "GET", "HEAD" -> {
                byte[] o = objects.get(key);
                if (o == null) {
                    send(ex, 404, "application/xml", "<Error><Code>NoSuchKey</Code><Message>" + key + "</Message></Error>");
                    return;
                }
                metadata.getOrDefault(key, Map.of()).forEach((n, v) -> ex.getResponseHeaders().add(n, v));
                ex.getResponseHeaders().add("ETag", "\"" + hex(sha256(o)).substring(0, 32) + "\"");
                String range = ex.getRequestHeaders().getFirst("Range");
                int from = 0;
                int to = o.length - 1;
                int status = 200;
                if (range != null && range.startsWith("bytes=")) {
                    String[] r = range.substring(6).split("-", 2);
                    from = Integer.parseInt(r[0]);
                    to = r[1].isEmpty() ? o.length - 1 : Math.min(Integer.parseInt(r[1]), o.length - 1);
                    if (from >= o.length) {
                        ex.getResponseHeaders().add("Content-Range", "bytes */" + o.length);
                        send(ex, 416, "application/xml", "<Error><Code>InvalidRange</Code></Error>");
                        return;
                    }
                    ex.getResponseHeaders().add("Content-Range", "bytes " + from + "-" + to + "/" + o.length);
                    status = 206;
                }
                int n = to - from + 1;
                if (ex.getRequestMethod().equals("HEAD")) {
                    ex.getResponseHeaders().add("Content-Length", Integer.toString(n));
                    ex.sendResponseHeaders(status, -1);
                } else {
                    ex.sendResponseHeaders(status, n == 0 ? -1 : n);
                    ex.getResponseBody().write(o, from, n);
                }
            }
            default -> send(ex, 405, "application/xml", "<Error><Code>MethodNotAllowed</Code></Error>");
        }
    }

    /** An {@code aws-chunked} body (the AWS SDK's streaming uploads) without its chunk framing. */
    private static byte[] decodeChunks(Headers h, byte[] body) {
        String sha = h.getFirst("x-amz-content-sha256");
        String enc = h.getFirst("Content-Encoding");
        if (!(sha != null && sha.startsWith("STREAMING-")) && !(enc != null && enc.contains("aws-chunked"))) {
            return body;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int i = 0;
        while (i < body.length) {
            int eol = indexOf(body, i);
            String line = new String(body, i, eol - i, StandardCharsets.US_ASCII);
            int size = Integer.parseInt(line.split(";", 2)[0].strip(), 16);
            i = eol + 2;
            if (size == 0) {
                break;
            }
            out.write(body, i, size);
            i += size + 2;
        }
        return out.toByteArray();
    }

    private static int indexOf(byte[] b, int from) {
        for (int i = from; i + 1 < b.length; i++) {
            if (b[i] == '\r' && b[i + 1] == '\n') {
                return i;
            }
        }
        throw new IllegalArgumentException("aws-chunked body without a line end");
    }

    // ------------------------------------------------------------------ helpers

    private static void send(HttpExchange ex, int status, String type, String text) throws IOException {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().add("Content-Type", type);
        if (ex.getRequestMethod().equals("HEAD")) {
            ex.sendResponseHeaders(status, -1);
            return;
        }
        ex.sendResponseHeaders(status, b.length);
        ex.getResponseBody().write(b);
    }

    private static Map<String, List<String>> parseQuery(String raw) {
        Map<String, List<String>> q = new TreeMap<>();
        if (raw == null || raw.isEmpty()) {
            return q;
        }
        for (String p : raw.split("&")) {
            String[] kv = p.split("=", 2);
            q.computeIfAbsent(decode(kv[0]), x -> new ArrayList<>()).add(kv.length > 1 ? decode(kv[1]) : "");
        }
        return q;
    }

    private static String decode(String s) {
        return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
    }

    /** AWS URI encoding: unreserved characters stay, the rest %XX upper case; '/' stays unless {@code slash}. */
    static String encode(String s, boolean slash) {
        StringBuilder sb = new StringBuilder();
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            int c = b & 0xFF;
            if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
                    || UNRESERVED_EXTRA.contains(String.valueOf((char) c)) || (c == '/' && !slash)) {
                sb.append((char) c);
            } else {
                sb.append('%').append(String.format("%02X", c));
            }
        }
        return sb.toString();
    }

    private static byte[] sha256(byte[] b) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(b);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] hmac(byte[] key, String data) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac.doFinal(data.getBytes(StandardCharsets.UTF_8));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String hex(byte[] b) {
        return HexFormat.of().formatHex(b);
    }
}
