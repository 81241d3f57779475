package io.tidemark.localcloud;

import java.net.URI;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import org.gaul.s3proxy.AccessGrant;
import org.gaul.s3proxy.AuthenticationType;
import org.gaul.s3proxy.BlobStores;
import org.gaul.s3proxy.S3Proxy;
import org.gaul.s3proxy.blobstore.BlobStore;
import org.gaul.s3proxy.blobstore.options.CreateContainerOptions;

/**
 * S3Proxy on the filesystem-nio2 store (one directory per bucket, one file per object, metadata
 * in extended attributes), path-style, SigV2/SigV4 with the local key pair, its blob store
 * wrapped so that completed writes raise S3 events.
 */
final class LocalS3 implements AutoCloseable {

    private final S3Proxy proxy;
    private final BlobStore store;
    private final URI endpoint;

    private LocalS3(S3Proxy proxy, BlobStore store, URI endpoint) {
        this.proxy = proxy;
        this.store = store;
        this.endpoint = endpoint;
    }

    static LocalS3 start(Path baseDir, String host, int port, String bucket, LocalCredentials credentials,
            S3EventDispatcher dispatcher, LocalTls tls) {
        return start(baseDir, host, port, bucket, credentials, dispatcher, tls, null, null);
    }

    /**
     * As above; with {@code enforcement}, every key local-cloud issued is accepted with its own
     * secret and each request is judged as the key's principal ({@link EnforcingBlobStore}), after
     * {@link S3KeyFilter} refused unknown, expired and token-less keys.
     *
     * <p>{@code comparisonBucket} (may be null) is a second bucket on the same endpoint that is not
     * part of the stack: no notifications, no bucket policy. Only the operator's keys reach it, and
     * there they may do anything, as the owner of a bucket of their own would. It exists so that
     * another tool (pgBackRest in bench/) can be measured against the same S3 endpoint: it writes
     * without If-None-Match and deletes, which the stack's bucket policy refuses everyone.
     */
    static LocalS3 start(Path baseDir, String host, int port, String bucket, LocalCredentials credentials,
            S3EventDispatcher dispatcher, LocalTls tls, Enforcement enforcement, String comparisonBucket) {
        Properties props = new Properties();
        props.setProperty("jclouds.filesystem.basedir", baseDir.toAbsolutePath().toString());
        BlobStore base = BlobStores.create("filesystem-nio2", props);
        if (!base.containerExists(bucket)) {
            base.createContainer(bucket, CreateContainerOptions.NONE);
        }
        if (comparisonBucket != null && !base.containerExists(comparisonBucket)) {
            base.createContainer(comparisonBucket, CreateContainerOptions.NONE);
        }
        BlobStore store = new NotifyingBlobStore(base, bucket, dispatcher);
        S3Proxy.Builder builder = S3Proxy.builder()
                .blobStore(store)
                .awsAuthentication(AuthenticationType.AWS_V2_OR_V4,
                        credentials.accessKeyId(), credentials.secretAccessKey());
        String scheme = tls == null ? "http" : "https";
        if (tls == null) {
            builder.endpoint(URI.create("http://" + host + ":" + port));
        } else {
            builder.secureEndpoint(URI.create("https://" + host + ":" + port))
                    .keyStore(tls.keyStore().toString(), tls.password());
        }
        S3Proxy proxy = builder.build();
        S3KeyFilter.install(proxy, enforcement); // without enforcement: logs 5xx and drains bodies
        if (enforcement != null) {
            Map<String, BlobStore> perPrincipal = new ConcurrentHashMap<>();
            proxy.setBlobStoreLocator((identity, container, blob) -> {
                SessionKeys.Key key = enforcement.keys().find(identity);
                if (key == null) {
                    return null; // S3Proxy answers AccessDenied (the filter already answered InvalidAccessKeyId)
                }
                if (comparisonBucket != null && comparisonBucket.equals(container)) {
                    boolean operator = key.principal().equals(enforcement.identities().operator());
                    return operator ? new AccessGrant(key.secretAccessKey(), base) : null;
                }
                return new AccessGrant(key.secretAccessKey(), perPrincipal.computeIfAbsent(key.principal().arn(),
                        arn -> new EnforcingBlobStore(store, key.principal(), enforcement)));
            });
        }
        try {
            proxy.start();
        } catch (Exception e) {
            stopQuietly(proxy);
            if (Ports.isBindFailure(e)) {
                throw Ports.inUse("S3", host, port, e);
            }
            throw new LocalCloudException("cannot start the local S3 endpoint (S3Proxy): " + e, e);
        }
        int bound = tls == null ? proxy.getPort() : proxy.getSecurePort();
        return new LocalS3(proxy, store, URI.create(scheme + "://" + host + ":" + bound));
    }

    URI endpoint() {
        return endpoint;
    }

    int port() {
        return endpoint.getPort();
    }

    BlobStore store() {
        return store;
    }

    private static void stopQuietly(S3Proxy proxy) {
        try {
            proxy.stop();
        } catch (Exception ignored) {
            // already failed to start
        }
    }

    @Override
    public void close() {
        try {
            proxy.stop();
        } catch (Exception e) {
            throw new LocalCloudException("error stopping S3Proxy: " + e, e);
        }
    }
}
