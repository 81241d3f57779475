package io.tidemark.shim.storage;

import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.core.ResponseBytes;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ClientBuilder;
import software.amazon.awssdk.services.s3.model.ChecksumAlgorithm;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * The same operations through the AWS SDK's {@link S3Client} ({@code s3.client=sdk}): slower
 * to start (docs/startup.md) but the reference implementation; tests run both against S3Proxy.
 * The SDK retries on its own; {@link RetryingObjectStore} is not stacked on it.
 */
public final class SdkObjectStore implements ObjectStore {
    private final S3Client s3;
    private final String bucket;
    private final CredentialSource credentials;

    public SdkObjectStore(Optional<URI> endpoint, String bucket, boolean pathStyle, String region,
                          CredentialSource credentials, int retries) {
        this(endpoint, bucket, pathStyle, region, credentials, retries, Optional.empty());
    }

    /**
     * The client gets a provider, not keys: it asks {@code credentials} for every request
     * (the chain's own refreshing provider, or an adapter to the endpoint or fixed keys).
     */
    public SdkObjectStore(Optional<URI> endpoint, String bucket, boolean pathStyle, String region,
                          CredentialSource credentials, int retries, Optional<java.nio.file.Path> caFile) {
        this.bucket = bucket;
        this.credentials = credentials;
        AwsCredentialsProvider provider = SdkCredentials.provider(credentials);
        S3ClientBuilder b = S3Client.builder()
                .region(Region.of(region))
                .credentialsProvider(provider)
                .forcePathStyle(pathStyle)
                .overrideConfiguration(o -> o.retryStrategy(r -> r.maxAttempts(retries + 1)))
                .httpClient(tlsFor(UrlConnectionHttpClient.builder()
                        .connectionTimeout(Duration.ofMillis(HttpObjectStore.CONNECT_TIMEOUT_MS))
                        .socketTimeout(Duration.ofMillis(HttpObjectStore.READ_TIMEOUT_MS)), caFile)
                        .build());
        endpoint.ifPresent(b::endpointOverride);
        this.s3 = b.build();
    }

    private static UrlConnectionHttpClient.Builder tlsFor(UrlConnectionHttpClient.Builder b, Optional<java.nio.file.Path> ca) {
        ca.ifPresent(file -> b.tlsTrustManagersProvider(() -> io.tidemark.events.tls.PemTrust.trustManagers(file)));
        return b;
    }

    @Override
    public PutOutcome putIfAbsent(String key, byte[] body, Map<String, String> metadata) {
        String crc = HttpObjectStore.crc32c(body);
        try {
            s3.putObject(r -> r.bucket(bucket).key(key).ifNoneMatch("*").metadata(metadata)
                            .contentType("application/octet-stream")
                            .checksumAlgorithm(ChecksumAlgorithm.CRC32_C).checksumCRC32C(crc),
                    RequestBody.fromBytes(body));
            return PutOutcome.CREATED;
        } catch (S3Exception e) {
            if (e.statusCode() == 412) {
                return PutOutcome.ALREADY_EXISTS;
            }
            throw failure("PUT", key, e);
        } catch (SdkClientException e) {
            throw new StorageException("S3 PUT " + key + " failed: " + e.getMessage(), e, true);
        }
    }

    @Override
    public Optional<Head> head(String key) {
        try {
            HeadObjectResponse r = s3.headObject(h -> h.bucket(bucket).key(key));
            return Optional.of(new Head(r.contentLength(), lower(r.metadata())));
        } catch (NoSuchKeyException e) {
            return Optional.empty();
        } catch (S3Exception e) {
            if (e.statusCode() == 404) {
                return Optional.empty();
            }
            throw failure("HEAD", key, e);
        } catch (SdkClientException e) {
            throw new StorageException("S3 HEAD " + key + " failed: " + e.getMessage(), e, true);
        }
    }

    @Override
    public Optional<Fetched> get(String key) {
        return get(key, null);
    }

    @Override
    public Optional<Fetched> get(String key, String versionId) {
        try {
            ResponseBytes<GetObjectResponse> r = s3.getObjectAsBytes(g -> g.bucket(bucket).key(key).versionId(versionId));
            return Optional.of(new Fetched(r.asByteArray(), lower(r.response().metadata())));
        } catch (NoSuchKeyException e) {
            return Optional.empty();
        } catch (S3Exception e) {
            if (e.statusCode() == 404) {
                return Optional.empty();
            }
            throw failure("GET", key, e);
        } catch (SdkClientException e) {
            throw new StorageException("S3 GET " + key + " failed: " + e.getMessage(), e, true);
        }
    }

    private static Map<String, String> lower(Map<String, String> m) {
        Map<String, String> out = new TreeMap<>();
        m.forEach((k, v) -> out.put(k.toLowerCase(java.util.Locale.ROOT), v));
        return out;
    }

    private StorageException failure(String method, String key, S3Exception e) {
        String code = e.awsErrorDetails() == null ? "" : " " + e.awsErrorDetails().errorCode();
        // ExpiredToken: keys that ran out in flight; a refreshing source has new ones for the retry
        boolean retryable = e.statusCode() >= 500 || e.statusCode() == 429 || e.statusCode() == 409
                || (code.equals(" ExpiredToken") && credentials.refreshing());
        return new StorageException("S3 " + method + " " + key + " failed: HTTP " + e.statusCode() + code
                + ": " + e.getMessage(), e, retryable);
    }

    @Override
    public void close() {
        s3.close();
    }
}
