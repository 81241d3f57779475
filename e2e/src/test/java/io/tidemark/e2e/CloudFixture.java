package io.tidemark.e2e;

import io.tidemark.localcloud.LocalCloud;
import io.tidemark.localcloud.LocalCloudFunctions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashSet;
import java.util.Set;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * A local cloud with the real product functions, on fixed ports once chosen, so it can be
 * stopped (an outage) and started again on the same directory and endpoints.
 *
 * <p>With {@code -Dtidemark.e2e.storage=localstack} (profile {@code localstack}) S3 and DynamoDB
 * are LocalStack's ({@link ExternalStorage}): local-cloud then runs only the API and the
 * functions, and LocalStack's S3 notifications reach the functions through an SQS queue. With
 * {@code -Dtidemark.e2e.storage=rgw} S3 is Ceph RGW's ({@code e2e.rgw.RgwStorage}), DynamoDB stays
 * local-cloud's, and RGW pushes its notifications over HTTP to a receiver in this JVM.
 */
public final class CloudFixture implements AutoCloseable {
    private final Path dir;
    private int s3Port;
    private int dynamoPort;
    private int apiPort;
    private LocalCloud cloud;
    private ExternalStorage storage;
    private final java.util.Map<String, String> settings;

    public CloudFixture(Path dir) {
        this(dir, java.util.Map.of());
    }

    /** With function settings, e.g. {@code TIDEMARK_RETENTION_POLICIES}. */
    public CloudFixture(Path dir, java.util.Map<String, String> settings) {
        this.dir = dir;
        this.settings = java.util.Map.copyOf(settings);
    }

    public CloudFixture start() {
        LocalCloud.Builder builder = LocalCloud.builder().dir(dir).apiPort(apiPort);
        if (storage == null) {
            storage = ExternalStorage.selected();
            if (storage != null) {
                storage.start();
            }
        } else {
            storage.startWithLocalCloud();
        }
        if (storage != null && storage.dynamoDbEndpoint() == null) {
            builder.externalS3(storage.s3Endpoint(), storage.s3Credentials()).dynamoDbPort(dynamoPort);
        } else if (storage != null) {
            builder.externalStorage(storage.s3Endpoint(), storage.dynamoDbEndpoint());
        } else {
            builder.s3Port(s3Port).dynamoDbPort(dynamoPort);
        }
        LocalCloudFunctions.register(builder);
        settings.forEach(builder::functionSetting);
        cloud = builder.start();
        if (storage != null) {
            LocalCloud current = cloud;
            storage.deliverEvents(cloud.bucket(), current::deliverS3Event);
        }
        s3Port = cloud.s3Endpoint().getPort();
        dynamoPort = cloud.dynamoDbEndpoint().getPort();
        apiPort = cloud.apiUrl().getPort();
        return this;
    }

    /**
     * Waits until every S3 event so far was handled by the functions (with external storage:
     * first handed over from its notifications). False on timeout.
     */
    public boolean awaitQuiescent(java.time.Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        if (storage != null && !storage.awaitDelivered(timeout)) {
            return false;
        }
        return cloud.awaitQuiescent(java.time.Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
    }

    /**
     * Stops local-cloud (API, functions, and its own S3 and DynamoDB). External storage stays up,
     * except Ceph RGW's gateway, which stops with it (an S3 outage) and starts again with {@link #start()}.
     */
    public void stop() {
        if (cloud != null) {
            if (storage != null) {
                storage.stopWithLocalCloud();
            }
            cloud.close();
            cloud = null;
        }
    }

    public LocalCloud cloud() {
        return cloud;
    }

    /**
     * The client configuration copied where the postgres user can read it, plus a spool
     * directory it can write: what an operator does when installing the shim on a node.
     */
    public Path nodeConfig(Path nodeDir, String extraLines) {
        try {
            Files.createDirectories(nodeDir);
            Path spool = nodeDir.resolve("spool");
            Files.createDirectories(spool);
            Path conf = nodeDir.resolve("tidemark.conf");
            String text = Files.readString(cloud.configFile()) + "\nspool.dir=" + spool + "\n" + extraLines;
            Files.writeString(conf, text);
            Files.setPosixFilePermissions(nodeDir, PosixFilePermissions.fromString("rwxr-xr-x"));
            Files.setPosixFilePermissions(conf, PosixFilePermissions.fromString("rw-r--r--"));
            Files.setPosixFilePermissions(spool, PosixFilePermissions.fromString("rwxrwxrwx"));
            return conf;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        stop();
        if (storage != null) {
            storage.close();
            storage = null;
        }
    }

    /** The WAL file names (without compression extension) in the bucket under {@code <stanza>/wal/}. */
    public Set<String> walObjectNames(String stanza) {
        LocalCloud c = cloud;
        try (S3Client s3 = S3Client.builder().endpointOverride(c.s3Endpoint()).region(Region.of(c.region()))
                .forcePathStyle(true)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(
                        c.credentials().accessKeyId(), c.credentials().secretAccessKey())))
                .build()) {
            Set<String> names = new HashSet<>();
            for (S3Object o : s3.listObjectsV2Paginator(b -> b.bucket(c.bucket()).prefix(stanza + "/wal/")).contents()) {
                String file = o.key().substring(o.key().lastIndexOf('/') + 1);
                names.add(file.contains(".") ? file.substring(0, file.indexOf('.')) : file);
            }
            return names;
        }
    }
}
