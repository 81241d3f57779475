package io.tidemark.functions.aws;

import io.tidemark.functions.plan.UrlSigner;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import software.amazon.awssdk.auth.credentials.AwsCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.AwsSessionCredentials;

/**
 * Presigned S3 GETs (SigV4 query-string authentication, {@code UNSIGNED-PAYLOAD}, only the
 * {@code host} header signed), computed directly: a plan needs one URL per object (hundreds to
 * thousands), and the SDK's {@code S3Presigner} runs its whole request pipeline for each.
 * Measured 2026-12-06 ({@code PresignCostBench}, 1,000 versioned keys, session credentials, 2 cores
 * under other builds' load): S3Presigner median 550-650 ms a plan (fastest 130-275 ms, first call
 * 2-7 s), this signer median 14-54 ms (fastest 4-16 ms, first call 20-600 ms). The planner's budget
 * is 300 ms for the whole plan, so the SDK presigner is not used.
 * Here the signing key is derived once per call and each URL is two SHA-256/HMAC computations.
 * Built once per function instance (before a SnapStart snapshot), not per request.
 * Temporary credentials (Lambda's role) add {@code X-Amz-Security-Token}; a URL lives at most as
 * long as they do, hence URL renewal.
 *
 * <p>Addressing: the endpoint override with the bucket in the path (path style) or in the host;
 * without an override, virtual-hosted {@code https://<bucket>.s3.<region>.amazonaws.com}.
 */
public final class SigV4UrlSigner implements UrlSigner {

    private static final DateTimeFormatter DATE = DateTimeFormatter.ofPattern("yyyyMMdd").withZone(ZoneOffset.UTC);
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'")
            .withZone(ZoneOffset.UTC);
    private static final HexFormat HEX = HexFormat.of();

    private final AwsCredentialsProvider credentials;
    private final String region;
    private final String scheme;
    private final String host;
    private final String pathPrefix;
    private final Clock clock;

    public SigV4UrlSigner(AwsCredentialsProvider credentials, String region, String bucket, URI endpoint,
                          boolean pathStyle, Clock clock) {
        this.credentials = credentials;
        this.region = region;
        this.clock = clock;
        if (endpoint == null) {
            this.scheme = "https";
            this.host = bucket + ".s3." + region + ".amazonaws.com";
            this.pathPrefix = "";
        } else {
            String authority = endpoint.getRawAuthority();
            String base = endpoint.getRawPath() == null ? "" : endpoint.getRawPath().replaceAll("/+$", "");
            this.scheme = endpoint.getScheme();
            this.host = pathStyle ? authority : bucket + "." + authority;
            this.pathPrefix = base + (pathStyle ? "/" + encode(bucket, false) : "");
        }
    }

    @Override
    public String presignGet(String key, Duration ttl) {
        return presignAll(java.util.List.of(key), ttl).get(key);
    }

    /** URLs for many keys with one credential lookup and one signing key. */
    @Override
    public Map<String, String> presignAll(Iterable<String> keys, Duration ttl) {
        return sign(keys, ttl).urls();
    }

    /** As {@link #presignAll}, with the expiration of the session keys that signed (asked anew each call). */
    @Override
    public Signed sign(Iterable<String> keys, Duration ttl) {
        Map<String, String> current = new java.util.LinkedHashMap<>();
        keys.forEach(k -> current.put(k, null));
        return signVersions(current, ttl);
    }

    /**
     * As {@link #sign}, each URL naming its object's version ({@code versionId} in the signed query
     * string; none for a null version).
     */
    @Override
    public Signed signVersions(Map<String, String> versionsByKey, Duration ttl) {
        Iterable<String> keys = versionsByKey.keySet();
        AwsCredentials c = credentials.resolveCredentials();
        var now = clock.instant();
        String date = DATE.format(now);
        String amzDate = TIME.format(now);
        String scope = date + "/" + region + "/s3/aws4_request";
        byte[] signingKey = hmac(hmac(hmac(hmac(("AWS4" + c.secretAccessKey()).getBytes(StandardCharsets.UTF_8), date),
                region), "s3"), "aws4_request");
        TreeMap<String, String> q = new TreeMap<>();
        q.put("X-Amz-Algorithm", "AWS4-HMAC-SHA256");
        q.put("X-Amz-Credential", encode(c.accessKeyId() + "/" + scope, true));
        q.put("X-Amz-Date", amzDate);
        q.put("X-Amz-Expires", Long.toString(Math.min(ttl.toSeconds(), 604_800)));
        if (c instanceof AwsSessionCredentials s) {
            q.put("X-Amz-Security-Token", encode(s.sessionToken(), true));
        }
        q.put("X-Amz-SignedHeaders", "host");
        StringBuilder query = new StringBuilder();
        q.forEach((k, v) -> query.append(query.isEmpty() ? "" : "&").append(k).append('=').append(v));
        String canonicalQuery = query.toString();
        String headerPart = "\nhost:" + host + "\n\nhost\nUNSIGNED-PAYLOAD";
        String prefix = "AWS4-HMAC-SHA256\n" + amzDate + "\n" + scope + "\n";
        Map<String, String> out = new java.util.LinkedHashMap<>();
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
        for (String key : keys) {
            String path = pathPrefix + "/" + encode(key, false);
            String version = versionsByKey.get(key);
            // canonical query parameters sort by name: versionId (lower case) comes after every X-Amz-*
            String signedQuery = version == null ? canonicalQuery : canonicalQuery + "&versionId=" + encode(version, true);
            String canonicalRequest = "GET\n" + path + "\n" + signedQuery + headerPart;
            String toSign = prefix + HEX.formatHex(sha.digest(canonicalRequest.getBytes(StandardCharsets.UTF_8)));
            String signature = HEX.formatHex(hmac(signingKey, toSign));
            out.put(key, scheme + "://" + host + path + "?" + signedQuery + "&X-Amz-Signature=" + signature);
        }
        return new Signed(out, c.expirationTime());
    }

    /** AWS URI encoding: unreserved characters stay, everything else %XX; '/' stays in paths. */
    static String encode(String s, boolean slash) {
        StringBuilder sb = new StringBuilder(s.length() + 16);
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            int c = b & 0xFF;
            if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'
                    || c == '.' || c == '~' || (c == '/' && !slash)) {
                sb.append((char) c);
            } else {
                sb.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
                        .append(Character.toUpperCase(Character.forDigit(c & 0xF, 16)));
            }
        }
        return sb.toString();
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
}
