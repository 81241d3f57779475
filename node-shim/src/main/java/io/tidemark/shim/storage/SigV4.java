package io.tidemark.shim.storage;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * AWS Signature Version 4 for one request (header-based): what S3 and API Gateway (AWS_IAM)
 * require. Small on purpose: the node shim signs a handful of requests per run and must not pay
 * for the AWS SDK's start-up. Verified against S3Proxy (which checks signatures) and against the
 * AWS test suite's vector in {@code SigV4Test}. It uses neither the JDK's security providers
 * nor {@code java.time.format} nor regular expressions: in a JVM started for one WAL segment those
 * cost more than the signature itself ({@link SmallSha256}, docs/startup.md).
 */
public final class SigV4 {
    public static final String UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD";
    public static final String EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    private SigV4() {
    }

    /**
     * Adds {@code x-amz-date}, {@code x-amz-security-token} (with temporary credentials) and
     * {@code Authorization} to {@code headers}, signing every header in it plus {@code host}.
     *
     * @param headers     the headers to send (names in any case); modified
     * @param payloadHash hex SHA-256 of the body, or {@link #UNSIGNED_PAYLOAD}
     * @param s3          S3 encodes path segments once; other services twice
     */
    public static void sign(String method, URI uri, Map<String, String> headers, String payloadHash,
                            AwsCredentials credentials, String region, String service, Instant now, boolean s3) {
        String amzDate = amzDate(now);
        String date = amzDate.substring(0, 8);
        headers.put("x-amz-date", amzDate);
        if (credentials.sessionToken() != null) {
            headers.put("x-amz-security-token", credentials.sessionToken());
        }
        TreeMap<String, String> canonical = new TreeMap<>();
        for (Map.Entry<String, String> e : headers.entrySet()) {
            canonical.put(e.getKey().toLowerCase(Locale.ROOT), collapseSpaces(e.getValue().strip()));
        }
        canonical.put("host", hostHeader(uri));
        StringBuilder ch = new StringBuilder();
        for (Map.Entry<String, String> e : canonical.entrySet()) {
            ch.append(e.getKey()).append(':').append(e.getValue()).append('\n');
        }
        String signedHeaders = String.join(";", canonical.keySet());
        String request = method + "\n" + canonicalPath(uri.getRawPath(), s3) + "\n" + canonicalQuery(uri.getRawQuery())
                + "\n" + ch + "\n" + signedHeaders + "\n" + payloadHash;
        String scope = date + "/" + region + "/" + service + "/aws4_request";
        String toSign = "AWS4-HMAC-SHA256\n" + amzDate + "\n" + scope + "\n" + hex(SmallSha256.digest(request.getBytes(StandardCharsets.UTF_8)));
        byte[] key = hmac(("AWS4" + credentials.secretAccessKey()).getBytes(StandardCharsets.UTF_8), date);
        key = hmac(key, region);
        key = hmac(key, service);
        key = hmac(key, "aws4_request");
        String signature = hex(hmac(key, toSign));
        headers.put("Authorization", "AWS4-HMAC-SHA256 Credential=" + credentials.accessKeyId() + "/" + scope
                + ", SignedHeaders=" + signedHeaders + ", Signature=" + signature);
    }

    /** {@code yyyyMMdd'T'HHmmss'Z'} in UTC. */
    static String amzDate(Instant now) {
        LocalDateTime t = LocalDateTime.ofEpochSecond(now.getEpochSecond(), 0, ZoneOffset.UTC);
        StringBuilder sb = new StringBuilder(16);
        pad(sb, t.getYear(), 4);
        pad(sb, t.getMonthValue(), 2);
        pad(sb, t.getDayOfMonth(), 2);
        sb.append('T');
        pad(sb, t.getHour(), 2);
        pad(sb, t.getMinute(), 2);
        pad(sb, t.getSecond(), 2);
        return sb.append('Z').toString();
    }

    private static void pad(StringBuilder sb, int value, int width) {
        String v = Integer.toString(value);
        sb.append("0".repeat(Math.max(0, width - v.length()))).append(v);
    }

    /** Runs of spaces become one, as SigV4's canonical header values want. */
    static String collapseSpaces(String v) {
        if (!v.contains("  ")) {
            return v;
        }
        StringBuilder sb = new StringBuilder(v.length());
        for (int i = 0; i < v.length(); i++) {
            char c = v.charAt(i);
            if (c != ' ' || sb.isEmpty() || sb.charAt(sb.length() - 1) != ' ') {
                sb.append(c);
            }
        }
        return sb.toString();
    }

    /** The Host header as HTTP clients send it: the port only when it is not the scheme's default. */
    public static String hostHeader(URI uri) {
        int port = uri.getPort();
        boolean dflt = port == -1 || (port == 80 && "http".equals(uri.getScheme()))
                || (port == 443 && "https".equals(uri.getScheme()));
        return uri.getHost() + (dflt ? "" : ":" + port);
    }

    static String canonicalPath(String rawPath, boolean s3) {
        if (rawPath == null || rawPath.isEmpty()) {
            return "/";
        }
        StringBuilder sb = new StringBuilder();
        String[] parts = rawPath.split("/", -1);
        for (int i = 0; i < parts.length; i++) {
            if (i > 0) {
                sb.append('/');
            }
            // rawPath is already encoded once (we only build keys from [0-9A-Za-z/_.-]); other
            // services want the encoded form encoded again.
            sb.append(s3 ? parts[i] : encode(parts[i]));
        }
        return sb.toString();
    }

    static String canonicalQuery(String rawQuery) {
        if (rawQuery == null || rawQuery.isEmpty()) {
            return "";
        }
        TreeMap<String, String> sorted = new TreeMap<>();
        for (String pair : rawQuery.split("&")) {
            int eq = pair.indexOf('=');
            sorted.put(eq < 0 ? pair : pair.substring(0, eq), eq < 0 ? "" : pair.substring(eq + 1));
        }
        StringBuilder sb = new StringBuilder();
        sorted.forEach((k, v) -> sb.append(sb.isEmpty() ? "" : "&").append(k).append('=').append(v));
        return sb.toString();
    }

    /** RFC 3986 unreserved characters stay, everything else is %XX (upper case). */
    static String encode(String s) {
        StringBuilder sb = new StringBuilder();
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            char c = (char) (b & 0xFF);
            if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
                    || c == '-' || c == '_' || c == '.' || c == '~') {
                sb.append(c);
            } else {
                sb.append('%').append(Character.toUpperCase(Character.forDigit((b >> 4) & 0xF, 16)))
                        .append(Character.toUpperCase(Character.forDigit(b & 0xF, 16)));
            }
        }
        return sb.toString();
    }

    public static byte[] sha256(byte[] data) {
        return Sha256.digest(data);
    }

    public static String hex(byte[] b) {
        return HexFormat.of().formatHex(b);
    }

    private static byte[] hmac(byte[] key, String data) {
        return SmallSha256.hmac(key, data.getBytes(StandardCharsets.UTF_8));
    }
}
