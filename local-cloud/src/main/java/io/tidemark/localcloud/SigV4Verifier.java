package io.tidemark.localcloud;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import software.amazon.awssdk.http.ContentStreamProvider;
import software.amazon.awssdk.http.SdkHttpFullRequest;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsSessionCredentials;
import software.amazon.awssdk.auth.signer.Aws4Signer;
import software.amazon.awssdk.auth.signer.params.Aws4SignerParams;
import software.amazon.awssdk.regions.Region;

/**
 * Checks the SigV4 {@code Authorization} header of a request to DynamoDB or the API, as AWS
 * does: the key must exist, be unexpired and come with its own session token, the date must be
 * within 15 minutes, and the signature must be the one the key's secret gives.
 *
 * <p>Why recomputing with the SDK's own signer is sound: a SigV4 signature is a deterministic
 * function of (secret, date, region, service, method, canonical path, canonical query, the signed
 * headers and their values, payload hash). We hand the SDK's signer exactly those inputs as
 * received — the method, the raw path and query, only the headers the client listed in
 * {@code SignedHeaders}, the body, and a clock fixed at the request's {@code x-amz-date} — with the
 * secret we issued for the key. It then computes what a client holding that secret computes for
 * that request, so equal signatures prove the sender had the secret and that none of the signed
 * parts changed; we write no canonicalization of our own to get subtly wrong. The one difference
 * from AWS: a client that signed a header the SDK never signs ({@code user-agent}, {@code expect},
 * ...) would be refused here; neither the SDK nor the shim signs those.
 *
 * <p>Which signer: the SDK's current {@code AwsV4HttpSigner} always adds and signs
 * {@code x-amz-content-sha256}, so it cannot recompute a valid signature from a client that did
 * not sign that header (the shim's API client does not; API Gateway and DynamoDB do not require
 * it). The SDK's older {@code Aws4Signer} signs exactly the headers it is given, which is what a
 * verifier needs; it is deprecated for signing, not removed, and computes the same SigV4.
 */
final class SigV4Verifier {

    private static final Pattern AUTH = Pattern.compile(
            "AWS4-HMAC-SHA256\\s+Credential=([^/,\\s]+)/(\\d{8})/([^/,\\s]+)/([^/,\\s]+)/aws4_request,\\s*"
                    + "SignedHeaders=([^,\\s]+),\\s*Signature=([0-9a-f]{64})\\s*");
    private static final Pattern SIGNATURE = Pattern.compile("Signature=([0-9a-f]{64})");
    private static final DateTimeFormatter AMZ_DATE = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'");
    private static final Duration MAX_SKEW = Duration.ofMinutes(15);

    /** The outcome: a key whose signature is good, or why the request is refused. */
    sealed interface Result {
        record Ok(SessionKeys.Key key) implements Result {
        }

        /** No (SigV4) Authorization header at all. */
        record Missing() implements Result {
        }

        /** The key check failed: unknown, expired, or without its token. */
        record BadKey(SessionKeys.Check check) implements Result {
        }

        /** Malformed header, another service's scope, a date out of range, or a wrong signature. */
        record BadSignature(SessionKeys.Key key, String accessKeyId, String why) implements Result {
        }
    }

    private SigV4Verifier() {
    }

    /**
     * @param headers   the request headers, names in any case
     * @param rawPath   the path as received (still percent-encoded)
     * @param rawQuery  the query as received, or null
     */
    static Result verify(SessionKeys keys, String service, String method, String rawPath, String rawQuery,
            Map<String, List<String>> headers, byte[] body) {
        String auth = header(headers, "Authorization");
        if (auth == null || !auth.startsWith("AWS4-HMAC-SHA256")) {
            return new Result.Missing();
        }
        Matcher m = AUTH.matcher(auth.strip());
        if (!m.matches()) {
            return new Result.BadSignature(null, null, "malformed Authorization header");
        }
        String accessKeyId = m.group(1);
        String scopeDate = m.group(2);
        String region = m.group(3);
        String scopeService = m.group(4);
        List<String> signedHeaders = List.of(m.group(5).split(";"));
        String signature = m.group(6);

        SessionKeys.Check check = keys.check(accessKeyId, header(headers, "x-amz-security-token"));
        if (!(check instanceof SessionKeys.Check.Valid valid)) {
            return new Result.BadKey(check);
        }
        SessionKeys.Key key = valid.key();
        if (!scopeService.equals(service)) {
            return new Result.BadSignature(key, accessKeyId, "credential scope names service " + scopeService
                    + ", expected " + service);
        }
        String amzDate = header(headers, "x-amz-date");
        Instant signedAt;
        try {
            signedAt = LocalDateTime.parse(amzDate == null ? "" : amzDate, AMZ_DATE).toInstant(ZoneOffset.UTC);
        } catch (DateTimeParseException e) {
            return new Result.BadSignature(key, accessKeyId, "missing or malformed x-amz-date");
        }
        if (!amzDate.startsWith(scopeDate)) {
            return new Result.BadSignature(key, accessKeyId, "credential scope date " + scopeDate
                    + " is not the date of x-amz-date " + amzDate);
        }
        Duration skew = Duration.between(signedAt, keys.now()).abs();
        if (skew.compareTo(MAX_SKEW) > 0) {
            return new Result.BadSignature(key, accessKeyId, "Signature expired: " + amzDate
                    + " is more than 15 minutes from the server's time");
        }
        if (!signedHeaders.contains("host")) {
            return new Result.BadSignature(key, accessKeyId, "the host header is not signed");
        }

        String host = header(headers, "Host");
        SdkHttpFullRequest.Builder request = SdkHttpFullRequest.builder()
                .method(SdkHttpMethod.fromValue(method.toUpperCase(Locale.ROOT)))
                .protocol("http")
                .host(hostName(host))
                .encodedPath(rawPath);
        int port = port(host);
        if (port > 0) {
            request.port(port);
        }
        if (rawQuery != null && !rawQuery.isEmpty()) {
            for (String pair : rawQuery.split("&")) {
                if (pair.isEmpty()) {
                    continue;
                }
                int eq = pair.indexOf('=');
                request.appendRawQueryParameter(decode(eq < 0 ? pair : pair.substring(0, eq)),
                        eq < 0 ? null : decode(pair.substring(eq + 1)));
            }
        }
        for (String name : signedHeaders) {
            if (name.equals("x-amz-security-token")) {
                continue; // the signer adds it from the session identity
            }
            List<String> values = values(headers, name);
            if (values == null) {
                return new Result.BadSignature(key, accessKeyId, "signed header " + name + " is missing");
            }
            request.putHeader(name, values);
        }
        String expected = sign(request.contentStreamProvider(ContentStreamProvider.fromByteArrayUnsafe(body)).build(),
                key, service, region, signedAt)
                .map(SIGNATURE::matcher).filter(Matcher::find).map(x -> x.group(1)).orElse("");
        if (!MessageDigest.isEqual(expected.getBytes(StandardCharsets.US_ASCII),
                signature.getBytes(StandardCharsets.US_ASCII))) {
            return new Result.BadSignature(key, accessKeyId, "signature mismatch");
        }
        return new Result.Ok(key);
    }

    @SuppressWarnings("deprecation") // Aws4Signer: see the class comment for why this signer
    private static java.util.Optional<String> sign(SdkHttpFullRequest request, SessionKeys.Key key, String service,
            String region, Instant signedAt) {
        software.amazon.awssdk.auth.credentials.AwsCredentials credentials = key.isSession()
                ? AwsSessionCredentials.create(key.accessKeyId(), key.secretAccessKey(), key.sessionToken())
                : AwsBasicCredentials.create(key.accessKeyId(), key.secretAccessKey());
        Aws4SignerParams params = Aws4SignerParams.builder()
                .awsCredentials(credentials)
                .signingName(service)
                .signingRegion(Region.of(region))
                .signingClockOverride(Clock.fixed(signedAt, ZoneOffset.UTC))
                .doubleUrlEncode(true)
                .build();
        return Aws4Signer.create().sign(request, params).firstMatchingHeader("Authorization");
    }

    private static String decode(String s) {
        return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
    }

    private static String hostName(String host) {
        if (host == null) {
            return "localhost";
        }
        int colon = host.lastIndexOf(':');
        return colon > 0 && !host.endsWith("]") ? host.substring(0, colon) : host;
    }

    private static int port(String host) {
        if (host == null) {
            return -1;
        }
        int colon = host.lastIndexOf(':');
        if (colon <= 0 || host.endsWith("]")) {
            return -1;
        }
        try {
            return Integer.parseInt(host.substring(colon + 1));
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    static String header(Map<String, List<String>> headers, String name) {
        List<String> v = values(headers, name);
        return v == null || v.isEmpty() ? null : v.get(v.size() - 1);
    }

    private static List<String> values(Map<String, List<String>> headers, String name) {
        for (Map.Entry<String, List<String>> e : headers.entrySet()) {
            if (e.getKey() != null && e.getKey().equalsIgnoreCase(name)) {
                return e.getValue();
            }
        }
        return null;
    }
}
