package io.tidemark.shim.storage;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.CRC32C;

/**
 * S3 PUT, HEAD and GET over {@link Http1Client}, signed with {@link SigV4}: the archive fast
 * path. It loads a few dozen JDK classes where the AWS SDK's S3Client loads thousands, and
 * none of {@code HttpURLConnection}'s (see docs/startup.md). Path-style
 * ({@code endpoint/bucket/key}) or virtual-hosted ({@code bucket.endpoint-host/key})
 * addressing, as configured.
 */
public final class HttpObjectStore implements ObjectStore {
    static final int CONNECT_TIMEOUT_MS = 5_000;
    static final int READ_TIMEOUT_MS = 60_000;

    private final URI endpoint;
    private final String bucket;
    private final boolean pathStyle;
    private final String region;
    private final CredentialSource credentials;
    private final Http1Client http;

    public HttpObjectStore(URI endpoint, String bucket, boolean pathStyle, String region, CredentialSource credentials) {
        this(endpoint, bucket, pathStyle, region, credentials, java.util.Optional.empty());
    }

    /** With {@code caFile}, only the certificates in it are trusted (local-cloud --tls, a private CA). */
    public HttpObjectStore(URI endpoint, String bucket, boolean pathStyle, String region, CredentialSource credentials,
                           java.util.Optional<java.nio.file.Path> caFile) {
        this.endpoint = endpoint;
        this.bucket = bucket;
        this.pathStyle = pathStyle;
        this.region = region;
        this.credentials = credentials;
        // null: the JVM's default trust store
        javax.net.ssl.SSLSocketFactory tls = caFile.map(ca -> io.tidemark.events.tls.PemTrust.sslContext(ca).getSocketFactory())
                .orElse(null);
        this.http = new Http1Client(tls, CONNECT_TIMEOUT_MS, READ_TIMEOUT_MS, Integer.MAX_VALUE - 8);
    }

    URI objectUri(String key) {
        String base = endpoint.getRawPath() == null ? "" : endpoint.getRawPath();
        while (base.endsWith("/")) {
            base = base.substring(0, base.length() - 1);
        }
        String authority = endpoint.getRawAuthority();
        String path;
        if (pathStyle) {
            path = base + "/" + bucket + "/" + encodeKey(key);
        } else {
            authority = bucket + "." + authority;
            path = base + "/" + encodeKey(key);
        }
        return URI.create(endpoint.getScheme() + "://" + authority + path);
    }

    private static String encodeKey(String key) {
        StringBuilder sb = new StringBuilder();
        for (String part : key.split("/", -1)) {
            if (!sb.isEmpty()) {
                sb.append('/');
            }
            sb.append(SigV4.encode(part));
        }
        return sb.toString();
    }

    @Override
    public PutOutcome putIfAbsent(String key, byte[] body, Map<String, String> metadata) {
        // The body is not hashed for the signature (UNSIGNED-PAYLOAD): its CRC-32C, which S3
        // verifies and stores as the object's additional checksum, is in a signed header. That
        // spares a second SHA-256 pass at start-up, the dearest step of a cold JVM.
        Map<String, String> h = new LinkedHashMap<>();
        h.put("Content-Type", "application/octet-stream");
        h.put("If-None-Match", "*");
        h.put("x-amz-checksum-crc32c", crc32c(body));
        h.put("x-amz-content-sha256", SigV4.UNSIGNED_PAYLOAD);
        metadata.forEach((k, v) -> h.put("x-amz-meta-" + k, v));
        Response r = send("PUT", key, h, body, SigV4.UNSIGNED_PAYLOAD);
        return switch (r.status) {
            case 200 -> PutOutcome.CREATED;
            case 412 -> PutOutcome.ALREADY_EXISTS;
            // a concurrent conditional write of the same key: trying again settles it
            case 409 -> throw new StorageException(describe("PUT", key, r), null, true);
            default -> throw failure("PUT", key, r);
        };
    }

    /** Base64 of the big-endian CRC-32C, as S3's {@code x-amz-checksum-crc32c} wants it. */
    public static String crc32c(byte[] body) {
        CRC32C crc = new CRC32C();
        crc.update(body, 0, body.length);
        long v = crc.getValue();
        return Base64.getEncoder().encodeToString(new byte[] {(byte) (v >>> 24), (byte) (v >>> 16), (byte) (v >>> 8), (byte) v});
    }

    @Override
    public Optional<Head> head(String key) {
        Response r = send("HEAD", key, headersForRead(), null, SigV4.EMPTY_SHA256);
        if (r.status == 404) {
            return Optional.empty();
        }
        if (r.status != 200) {
            throw failure("HEAD", key, r);
        }
        return Optional.of(new Head(r.contentLength, r.metadata));
    }

    @Override
    public Optional<Fetched> get(String key) {
        return get(key, null);
    }

    @Override
    public Optional<Fetched> get(String key, String versionId) {
        Response r = send("GET", key, versionId == null ? null : "versionId=" + SigV4.encode(versionId), headersForRead(),
                null, SigV4.EMPTY_SHA256);
        if (r.status == 404) {
            return Optional.empty();
        }
        if (r.status != 200) {
            throw failure("GET", key, r);
        }
        return Optional.of(new Fetched(r.body, r.metadata));
    }

    private static Map<String, String> headersForRead() {
        Map<String, String> h = new LinkedHashMap<>();
        h.put("x-amz-content-sha256", SigV4.EMPTY_SHA256);
        return h;
    }

    private record Response(int status, long contentLength, Map<String, String> metadata, byte[] body) {
    }

    private Response send(String method, String key, Map<String, String> headers, byte[] body, String payloadHash) {
        return send(method, key, null, headers, body, payloadHash);
    }

    /** @param rawQuery the encoded query string (null: none), signed with the request */
    private Response send(String method, String key, String rawQuery, Map<String, String> headers, byte[] body,
                          String payloadHash) {
        URI base = objectUri(key);
        URI uri = rawQuery == null ? base : URI.create(base + "?" + rawQuery);
        // asked per request: a long-lived process signs with the keys of the moment (CredentialSource)
        AwsCredentials keys = credentials.current();
        SigV4.sign(method, uri, headers, payloadHash, keys, region, "s3", Instant.now(), true);
        try {
            Http1Client.Response r = http.send(method, uri, headers, body);
            if (r.status() == 400 || r.status() == 403) {
                String text = new String(r.body(), StandardCharsets.UTF_8);
                if (text.contains("<Code>ExpiredToken</Code>")) {
                    // the keys ran out between the source's answer and S3's check (or clocks
                    // differ): new keys on the retry
                    credentials.refused(keys);
                    throw new StorageException(describe(method, key, new Response(r.status(), -1, Map.of(), r.body()))
                            + " (keys " + keys.accessKeyId() + " from " + credentials.describe() + ")", null,
                            credentials.refreshing());
                }
            }
            Map<String, String> meta = new TreeMap<>();
            r.headers().forEach((name, value) -> {
                if (name.startsWith("x-amz-meta-")) {
                    meta.put(name.substring("x-amz-meta-".length()), value);
                }
            });
            long length = r.contentLength();
            if (r.status() == 200 && method.equals("GET") && length >= 0 && r.body().length != length) {
                throw new StorageException("GET " + key + ": got " + r.body().length + " of " + length + " bytes", null, true);
            }
            return new Response(r.status(), length, meta, r.body());
        } catch (IOException e) {
            throw new StorageException(method + " " + uri + ": " + e.getClass().getSimpleName()
                    + (e.getMessage() == null ? "" : ": " + e.getMessage()), e, true);
        }
    }

    @Override
    public void close() {
        http.close();
    }

    private static StorageException failure(String method, String key, Response r) {
        boolean retryable = r.status >= 500 || r.status == 429 || r.status == 408;
        return new StorageException(describe(method, key, r), null, retryable);
    }

    private static String describe(String method, String key, Response r) {
        String text = new String(r.body, StandardCharsets.UTF_8);
        Matcher code = Pattern.compile("<Code>([^<]*)</Code>").matcher(text);
        Matcher msg = Pattern.compile("<Message>([^<]*)</Message>").matcher(text);
        String detail = (code.find() ? code.group(1) : "") + (msg.find() ? ": " + msg.group(1) : "");
        return "S3 " + method + " " + key + " failed: HTTP " + r.status + (detail.isEmpty() ? "" : " " + detail);
    }
}
