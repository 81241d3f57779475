package io.tidemark.e2e;

import java.net.URI;
import java.time.Duration;
import java.util.ServiceLoader;
import java.util.function.Function;

/**
 * S3 and DynamoDB run by something else (LocalStack), or S3 alone (Ceph RGW, {@code rgw}), for
 * the end-to-end tests to run against instead of local-cloud's S3Proxy and DynamoDB Local.
 * Chosen with the system property {@value #PROPERTY}; the implementation is found through
 * {@link ServiceLoader}, so this module needs no container library: {@code e2e-localstack}
 * (profile {@code localstack}) brings LocalStack's; RGW's lives here ({@code e2e.rgw}).
 */
public interface ExternalStorage extends AutoCloseable {

    String PROPERTY = "tidemark.e2e.storage";

    /** The name {@value #PROPERTY} selects this implementation by. */
    String name();

    /**
     * Starts the storage, or aborts the calling test (JUnit assumption) with a one-line reason
     * when it cannot run here (no Docker engine).
     */
    void start();

    URI s3Endpoint();

    /** Null when this storage is S3 only: local-cloud then runs DynamoDB Local itself. */
    URI dynamoDbEndpoint();

    /**
     * The key pair this storage's S3 accepts, for local-cloud, its functions and the nodes; null
     * when it accepts any (LocalStack).
     */
    default io.tidemark.localcloud.LocalCredentials s3Credentials() {
        return null;
    }

    /**
     * Local-cloud is about to stop (a test's outage): hold the notifications that arrive until
     * {@link #deliverEvents} names the next local-cloud (none is lost), and stop S3 where this
     * storage can, so that the outage is an S3 outage as with local-cloud's own S3.
     */
    default void stopWithLocalCloud() {
    }

    /** Local-cloud is about to start again: S3 comes back first. */
    default void startWithLocalCloud() {
    }

    /**
     * Sends the bucket's ObjectCreated notifications to {@code deliver} (S3 event JSON in, number
     * of records taken out), until closed.
     */
    void deliverEvents(String bucket, Function<byte[], Integer> deliver);

    /** Waits until every notification raised so far was handed over; false on timeout. */
    boolean awaitDelivered(Duration timeout) throws InterruptedException;

    @Override
    void close();

    /** The implementation {@value #PROPERTY} names, or null when the property is not set. */
    static ExternalStorage selected() {
        String name = System.getProperty(PROPERTY, "").strip();
        if (name.isEmpty()) {
            return null;
        }
        for (ExternalStorage s : ServiceLoader.load(ExternalStorage.class)) {
            if (s.name().equals(name)) {
                return s;
            }
        }
        throw new IllegalStateException(PROPERTY + "=" + name + " but no such ExternalStorage is on the class path"
                + " (LocalStack: ./mvnw verify -Plocalstack)");
    }
}
