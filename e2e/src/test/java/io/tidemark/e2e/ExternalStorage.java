package io.tidemark.e2e;

import java.net.URI;
import java.time.Duration;
import java.util.ServiceLoader;
import java.util.function.Function;

/**
 * S3 and DynamoDB run by something else (LocalStack), for the end-to-end tests to run against
 * instead of local-cloud's S3Proxy and DynamoDB Local. Chosen with the system property
 * {@value #PROPERTY}; the implementation is found through {@link ServiceLoader}, so this module
 * needs no container library: {@code e2e-localstack} (profile {@code localstack}) brings it.
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

    URI dynamoDbEndpoint();

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
