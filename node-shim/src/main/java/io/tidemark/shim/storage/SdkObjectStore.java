package io.tidemark.shim.storage;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import software.amazon.awssdk.awscore.exception.AwsErrorDetails;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.ResponseBytes;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.SdkHttpClient;
import software.amazon.awssdk.http.apache.ApacheHttpClient;
import software.amazon.awssdk.http.apache.ProxyConfiguration;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.retries.api.RetryStrategy;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ClientBuilder;
import software.amazon.awssdk.services.s3.S3Configuration;
import software.amazon.awssdk.services.s3.model.ChecksumAlgorithm;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * The node's S3 client: the AWS SDK's {@link S3Client} over its Apache HTTP client, one per
 * process (each command opens one store through {@link Stores} and keeps it; the async worker
 * for its whole life), so requests reuse pooled connections and a stale pooled connection is
 * checked before use rather than failing a PUT. Retries are the SDK's standard strategy
 * (exponential backoff with full jitter), plus what S3 answers for a concurrent conditional
 * write of the same key (409). Session keys that ran out in flight (ExpiredToken, with a
 * refreshing source) are dropped and the call made again with new ones ({@link #withFreshKeys}:
 * the SDK resolves keys once per call, so its own retries would sign with the same). Proxies: the JVM's {@code https.proxyHost}
 * and friends or {@code HTTPS_PROXY}/{@code NO_PROXY}.
 *
 * <p>A retried PUT whose first attempt landed answers 412 to the retry; {@link CreateOnly}
 * compares the existing object, so that is an identical re-push, never a conflict. An object
 * above {@link Multipart#threshold()} goes in parts ({@link PartedUpload}), create-only in the
 * same way.
 */
public final class SdkObjectStore implements ObjectStore {
    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
    static final Duration READ_TIMEOUT = Duration.ofSeconds(60);
    /** Above the async worker's 32 uploads and a backup's parallel copies. */
    static final int MAX_CONNECTIONS = 64;

    private final S3Client s3;
    private final SdkHttpClient http;
    private final String bucket;
    private final CredentialSource credentials;
    private final SdkCredentials.Tracked provider;
    private final int retries;
    private final Multipart multipart;
    private final PartedUpload parted;

    public SdkObjectStore(Optional<URI> endpoint, String bucket, boolean pathStyle, String region,
                          CredentialSource credentials, int retries) {
        this(endpoint, bucket, pathStyle, region, credentials, retries, Optional.empty());
    }

    public SdkObjectStore(Optional<URI> endpoint, String bucket, boolean pathStyle, String region,
                          CredentialSource credentials, int retries, Optional<Path> caFile) {
        this(endpoint, bucket, pathStyle, region, credentials, retries, caFile, Multipart.DEFAULT);
    }

    /**
     * The client gets a provider, not keys: it asks {@code credentials} for every request
     * (the chain's own refreshing provider, or an adapter to the endpoint or fixed keys).
     *
     * @param retries   attempts after the first; with {@code caFile}, only its certificates are
     *                  trusted (local-cloud --tls, a private CA)
     * @param multipart which objects go in parts, and how ({@link PartedUpload})
     */
    public SdkObjectStore(Optional<URI> endpoint, String bucket, boolean pathStyle, String region,
                          CredentialSource credentials, int retries, Optional<Path> caFile, Multipart multipart) {
        this.bucket = bucket;
        this.multipart = multipart;
        this.credentials = credentials;
        this.provider = SdkCredentials.tracked(credentials);
        this.retries = retries;
        this.http = httpClient(caFile);
        S3ClientBuilder b = S3Client.builder()
                .region(Region.of(region))
                .credentialsProvider(provider)
                .forcePathStyle(pathStyle)
                // the body goes as it is, with our CRC-32C header: no aws-chunked framing with
                // per-chunk signatures or trailing checksums (a second pass over the body, and
                // not every S3 takes it); over TLS the payload is UNSIGNED-PAYLOAD
                .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .serviceConfiguration(S3Configuration.builder().chunkedEncodingEnabled(false).build())
                .overrideConfiguration(o -> o.retryStrategy(retryStrategy(retries)))
                .httpClient(http);
        endpoint.ifPresent(b::endpointOverride);
        this.s3 = b.build();
        this.parted = new PartedUpload(this, s3, bucket, multipart);
    }

    /** Test hook: called with each part's number before the part is sent; a throw fails that part. */
    void beforePart(java.util.function.IntConsumer hook) {
        parted.beforePart(hook);
    }

    private RetryStrategy retryStrategy(int retries) {
        return AwsRetryStrategy.standardRetryStrategy().toBuilder()
                .maxAttempts(retries + 1)
                .retryOnException(this::alsoRetry)
                .build();
    }

    /** What the standard strategy does not retry but may pass on another attempt. */
    private boolean alsoRetry(Throwable t) {
        if (t instanceof S3Exception e) {
            return e.statusCode() == 409; // a concurrent conditional write of the same key: trying again settles it
        }
        return storageCause(t).map(StorageException::retryable).orElse(false);
    }

    private static SdkHttpClient httpClient(Optional<Path> caFile) {
        ApacheHttpClient.Builder b = ApacheHttpClient.builder()
                .maxConnections(MAX_CONNECTIONS)
                .connectionTimeout(CONNECT_TIMEOUT)
                .socketTimeout(READ_TIMEOUT)
                .proxyConfiguration(ProxyConfiguration.builder()
                        .useSystemPropertyValues(true)
                        .useEnvironmentVariableValues(true)
                        .build());
        caFile.ifPresent(file -> b.tlsTrustManagersProvider(() -> io.tidemark.events.tls.PemTrust.trustManagers(file)));
        return b.build();
    }

    @Override
    public PutOutcome putIfAbsent(String key, byte[] body, Map<String, String> metadata) {
        if (multipart.applies(body.length)) {
            return parted.upload(key, PartedUpload.Body.of(body), metadata);
        }
        try {
            // CRC-32C as S3's additional checksum, in a header (no aws-chunked trailer, which not
            // every S3 takes): S3 verifies it and keeps it with the object
            withFreshKeys(() -> s3.putObject(r -> r.bucket(bucket).key(key).ifNoneMatch("*").metadata(metadata)
                            .contentType("application/octet-stream")
                            .checksumAlgorithm(ChecksumAlgorithm.CRC32_C).checksumCRC32C(crc32c(body)),
                    RequestBody.fromBytes(body)));
            return PutOutcome.CREATED;
        } catch (S3Exception e) {
            if (e.statusCode() == 412) {
                return PutOutcome.ALREADY_EXISTS;
            }
            throw failure("PUT", key, e);
        } catch (SdkClientException e) {
            throw clientFailure("PUT", key, e);
        }
    }

    /**
     * Runs {@code call}; when S3 refuses the keys as expired and the source refreshes, tells the
     * source to drop them and runs it again after a jittered pause (250 ms growing to 4 s, at most
     * {@code retries} times), signed with the source's next keys (a source may need a moment to
     * have newer ones than those S3 refused).
     */
    <T> T withFreshKeys(java.util.function.Supplier<T> call) {
        long pause = 250;
        for (int attempt = 0; ; attempt++) {
            try {
                return call.get();
            } catch (S3Exception e) {
                if (attempt >= retries || !"ExpiredToken".equals(code(e)) || !credentials.refreshing()) {
                    throw e;
                }
                provider.refusedLast();
                try {
                    Thread.sleep(pause / 2 + java.util.concurrent.ThreadLocalRandom.current().nextLong(pause / 2 + 1));
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
                pause = Math.min(pause * 4, 4000);
            }
        }
    }

    @Override
    public PutOutcome putIfAbsent(String key, java.nio.file.Path body, Map<String, String> metadata) {
        String crc;
        try {
            if (multipart.applies(java.nio.file.Files.size(body))) {
                return parted.upload(key, PartedUpload.Body.of(body), metadata);
            }
            crc = crc32c(body);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("cannot read " + body + ": " + e.getMessage(), e);
        }
        try {
            // streamed from the file (and read again by a retry): the object is never held in memory
            withFreshKeys(() -> s3.putObject(r -> r.bucket(bucket).key(key).ifNoneMatch("*").metadata(metadata)
                            .contentType("application/octet-stream")
                            .checksumAlgorithm(ChecksumAlgorithm.CRC32_C).checksumCRC32C(crc),
                    RequestBody.fromFile(body)));
            return PutOutcome.CREATED;
        } catch (S3Exception e) {
            if (e.statusCode() == 412) {
                return PutOutcome.ALREADY_EXISTS;
            }
            throw failure("PUT", key, e);
        } catch (SdkClientException e) {
            throw clientFailure("PUT", key, e);
        }
    }

    private static String crc32c(java.nio.file.Path file) throws java.io.IOException {
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        try (java.io.InputStream in = java.nio.file.Files.newInputStream(file)) {
            byte[] buf = new byte[1 << 20];
            for (int n; (n = in.read(buf)) > 0; ) {
                crc.update(buf, 0, n);
            }
        }
        return crc32cText(crc.getValue());
    }

    /** Base64 of the big-endian CRC-32C, as S3's {@code x-amz-checksum-crc32c} wants it. */
    static String crc32c(byte[] body) {
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(body, 0, body.length);
        return crc32cText(crc.getValue());
    }

    static String crc32cText(long v) {
        return java.util.Base64.getEncoder().encodeToString(new byte[] {(byte) (v >>> 24), (byte) (v >>> 16),
                (byte) (v >>> 8), (byte) v});
    }

    @Override
    public Optional<Head> head(String key) {
        try {
            HeadObjectResponse r = withFreshKeys(() -> s3.headObject(h -> h.bucket(bucket).key(key)));
            return Optional.of(new Head(r.contentLength(), lower(r.metadata())));
        } catch (NoSuchKeyException e) {
            return Optional.empty();
        } catch (S3Exception e) {
            if (e.statusCode() == 404) {
                return Optional.empty();
            }
            throw failure("HEAD", key, e);
        } catch (SdkClientException e) {
            throw clientFailure("HEAD", key, e);
        }
    }

    @Override
    public Optional<Fetched> get(String key) {
        return get(key, null);
    }

    @Override
    public java.util.List<String> list(String prefix) {
        try {
            return withFreshKeys(() -> s3.listObjectsV2Paginator(l -> l.bucket(bucket).prefix(prefix)).contents()
                    .stream().map(software.amazon.awssdk.services.s3.model.S3Object::key).toList());
        } catch (S3Exception e) {
            throw failure("LIST", prefix, e);
        } catch (SdkClientException e) {
            throw clientFailure("LIST", prefix, e);
        }
    }

    @Override
    public Optional<Fetched> get(String key, String versionId) {
        try {
            ResponseBytes<GetObjectResponse> r = withFreshKeys(() -> s3.getObjectAsBytes(g -> g.bucket(bucket).key(key)
                    .versionId(versionId)));
            return Optional.of(new Fetched(r.asByteArray(), lower(r.response().metadata())));
        } catch (NoSuchKeyException e) {
            return Optional.empty();
        } catch (S3Exception e) {
            if (e.statusCode() == 404) {
                return Optional.empty();
            }
            throw failure("GET", key, e);
        } catch (SdkClientException e) {
            throw clientFailure("GET", key, e);
        }
    }

    /**
     * The object's body straight from the HTTP response (the prefetcher streams it through
     * decompression and hashing into its spool file). Errors before the body (404, 403, 5xx after
     * the SDK's retries) are answered here as {@link #get(String, String)} answers them; a read
     * that fails later is the caller's {@link java.io.IOException}.
     */
    @Override
    public Optional<Opened> open(String key, String versionId) {
        try {
            software.amazon.awssdk.core.ResponseInputStream<GetObjectResponse> r = withFreshKeys(() -> s3.getObject(g -> g
                    .bucket(bucket).key(key).versionId(versionId)));
            Long length = r.response().contentLength();
            // abort: a body read only in part (refused mid-stream) is not drained to reuse the connection
            return Optional.of(new Opened(r, length == null ? -1 : length, lower(r.response().metadata()), r::abort));
        } catch (NoSuchKeyException e) {
            return Optional.empty();
        } catch (S3Exception e) {
            if (e.statusCode() == 404) {
                return Optional.empty();
            }
            throw failure("GET", key, e);
        } catch (SdkClientException e) {
            throw clientFailure("GET", key, e);
        }
    }

    private static Map<String, String> lower(Map<String, String> m) {
        Map<String, String> out = new TreeMap<>();
        m.forEach((k, v) -> out.put(k.toLowerCase(Locale.ROOT), v));
        return out;
    }

    private static String code(S3Exception e) {
        AwsErrorDetails d = e.awsErrorDetails();
        return d == null ? null : d.errorCode();
    }

    /** One line: {@code S3 PUT key failed: HTTP 400 ExpiredToken: The provided token has expired.} */
    StorageException failure(String method, String key, S3Exception e) {
        // a HEAD answer has no body: the code the SDK makes up from the status line says nothing more
        String code = method.equals("HEAD") ? null : code(e);
        String message = method.equals("HEAD") || e.awsErrorDetails() == null ? null : e.awsErrorDetails().errorMessage();
        String text = "S3 " + method + " " + key + " failed: HTTP " + e.statusCode()
                + (code == null ? "" : " " + code) + (message == null ? "" : ": " + message);
        boolean expired = "ExpiredToken".equals(code);
        if (expired) {
            text += " (keys " + provider.lastKeyId() + " from " + credentials.describe() + ")";
        }
        if (retryableStatus(e.statusCode()) || expired) {
            text += attempts(e);
        }
        boolean retryable = retryableStatus(e.statusCode()) || (expired && credentials.refreshing());
        return new StorageException(text, e, retryable);
    }

    private static boolean retryableStatus(int status) {
        return status >= 500 || status == 429 || status == 409 || status == 408;
    }

    static StorageException clientFailure(String method, String key, SdkClientException e) {
        Optional<StorageException> cause = storageCause(e);
        if (cause.isPresent()) {
            return new StorageException(cause.get().getMessage(), e, cause.get().retryable()); // no credentials
        }
        String m = String.valueOf(e.getMessage()).replaceFirst(" \\(SDK Attempt Count: \\d+\\)$", "");
        return new StorageException("S3 " + method + " " + key + " failed: " + m + attempts(e), e, true);
    }

    /** {@code " (after N attempts)"} when the SDK tried more than once, as every retried failure says. */
    private static String attempts(software.amazon.awssdk.core.exception.SdkException e) {
        Integer n = e.numAttempts();
        return n != null && n > 1 ? " (after " + n + " attempts)" : "";
    }

    private static Optional<StorageException> storageCause(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof StorageException s) {
                return Optional.of(s);
            }
        }
        return Optional.empty();
    }

    @Override
    public void close() {
        parted.close();
        s3.close();
        http.close(); // given to the client, so not closed by it
    }
}
