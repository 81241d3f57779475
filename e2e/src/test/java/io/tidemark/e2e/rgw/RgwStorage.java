package io.tidemark.e2e.rgw;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.tidemark.e2e.ExternalStorage;
import io.tidemark.functions.runtime.S3EventNotification;
import io.tidemark.localcloud.LocalCredentials;
import io.tidemark.testkit.rgw.RgwCluster;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.BucketVersioningStatus;
import software.amazon.awssdk.services.s3.model.DeleteMarkerEntry;
import software.amazon.awssdk.services.s3.model.Event;
import software.amazon.awssdk.services.s3.model.ListObjectVersionsResponse;
import software.amazon.awssdk.services.s3.model.ObjectVersion;

/**
 * Ceph RGW as the e2e tests' S3 ({@code -Dtidemark.e2e.storage=rgw}); DynamoDB stays local-cloud's
 * DynamoDB Local. The bucket is versioned, as the stack's is. Its ObjectCreated and ObjectRemoved
 * notifications go to a persistent RGW topic whose push endpoint is a small HTTP receiver in this
 * JVM, which hands each event, as RGW sent it, to local-cloud's real handlers. A persistent topic
 * keeps an event and pushes it again until the receiver answers 200, so events raised while
 * local-cloud is stopped (the receiver answers 503) reach the next one.
 *
 * <p>RGW's events are AWS-shaped with {@code eventSource} {@code ceph:s3} and an empty
 * {@code awsRegion}; the product's parser reads neither, so they go through unchanged.
 */
public final class RgwStorage implements ExternalStorage {

    /** Memstore keeps every object in the OSD's memory; the largest test stores a few hundred MB. */
    private static final long MEMSTORE_BYTES = 4L << 30;
    private static final String TOPIC = "tidemark-functions";
    private static final String REGION = "us-east-1";

    private RgwCluster cluster;
    private LocalCredentials credentials;
    private HttpServer receiver;
    private volatile Function<byte[], Integer> deliver;
    private String bucket;
    private final AtomicInteger inFlight = new AtomicInteger();
    /** {@code key + '\0' + versionId} of every object version and delete marker handed over. */
    private final Set<String> delivered = ConcurrentHashMap.newKeySet();

    @Override
    public String name() {
        return "rgw";
    }

    @Override
    public void start() {
        RgwCluster.assumeInstalled();
        // RGW 16 knows no trailing checksums (aws-chunked with x-amz-trailer, which the SDK sends
        // by default since 2.30) and answers 400: checksums only where an operation requires one,
        // for every SDK client in this JVM (the functions run in it). The shim's own S3 client
        // sends its CRC32C as a header, which RGW accepts.
        System.setProperty("aws.requestChecksumCalculation", "WHEN_REQUIRED");
        System.setProperty("aws.responseChecksumValidation", "WHEN_REQUIRED");
        cluster = RgwCluster.start(MEMSTORE_BYTES);
        SecureRandom random = new SecureRandom();
        credentials = new LocalCredentials("TMRGW" + Long.toString(random.nextLong() & Long.MAX_VALUE, 36).toUpperCase(),
                java.util.HexFormat.of().formatHex(random.generateSeed(20)));
        cluster.createUser("tidemark", credentials.accessKeyId(), credentials.secretAccessKey());
    }

    @Override
    public URI s3Endpoint() {
        return cluster.endpoint();
    }

    @Override
    public URI dynamoDbEndpoint() {
        return null;
    }

    @Override
    public LocalCredentials s3Credentials() {
        return credentials;
    }

    @Override
    public Optional<String> lacks(Semantic semantic) {
        return switch (semantic) {
            case S3_STOPS_WITH_LOCAL_CLOUD -> Optional.of("skipped on Ceph RGW: its S3 runs outside local-cloud,"
                    + " so stopping local-cloud causes no S3 outage");
            case CONDITIONAL_CREATE -> Optional.of("skipped on Ceph RGW: it ignores If-None-Match: * on versioned"
                    + " buckets (AWS answers 412), so a create-only PUT overwrites");
        };
    }

    @Override
    public void deliverEvents(String bucket, Function<byte[], Integer> deliver) {
        this.deliver = deliver;
        if (receiver != null) {
            return; // a restarted local-cloud: topic, notification and receiver stay
        }
        this.bucket = bucket;
        try {
            receiver = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 16);
        } catch (IOException e) {
            throw new IllegalStateException("cannot start the RGW event receiver: " + e.getMessage(), e);
        }
        receiver.createContext("/", this::receive);
        receiver.setExecutor(Executors.newFixedThreadPool(2, Thread.ofPlatform().daemon().name("rgw-events-", 0)
                .factory()));
        receiver.start();
        URI pushTo = URI.create("http://127.0.0.1:" + receiver.getAddress().getPort() + "/");
        String topicArn = RgwTopics.createPersistent(cluster.endpoint(), credentials, REGION, TOPIC, pushTo);
        try (S3Client s3 = s3()) {
            s3.putBucketVersioning(b -> b.bucket(bucket).versioningConfiguration(v -> v
                    .status(BucketVersioningStatus.ENABLED)));
            s3.putBucketNotificationConfiguration(b -> b.bucket(bucket).notificationConfiguration(n -> n
                    .topicConfigurations(t -> t.id(TOPIC).topicArn(topicArn)
                            .events(Event.S3_OBJECT_CREATED, Event.S3_OBJECT_REMOVED))));
        }
    }

    private void receive(HttpExchange exchange) throws IOException {
        inFlight.incrementAndGet();
        try (exchange) {
            byte[] body;
            try (InputStream in = exchange.getRequestBody()) {
                body = in.readAllBytes();
            }
            Function<byte[], Integer> target = deliver;
            if (target == null) {
                // local-cloud is stopped: RGW keeps the event and pushes it again
                exchange.sendResponseHeaders(503, -1);
                return;
            }
            int status = 200;
            try {
                S3EventNotification event = S3EventNotification.parse(body);
                target.apply(body);
                for (S3EventNotification.Record r : event.records()) {
                    delivered.add(r.key() + '\0' + (r.versionId() == null ? "" : r.versionId()));
                }
            } catch (RuntimeException e) {
                System.err.println("RGW S3 event not handed over (RGW pushes it again): " + e);
                status = 500;
            }
            exchange.sendResponseHeaders(status, -1);
        } finally {
            inFlight.decrementAndGet();
        }
    }

    @Override
    public void pauseDelivery() {
        deliver = null;
        // a push already in a handler finishes with the old local-cloud before it closes
        while (inFlight.get() > 0) {
            Thread.onSpinWait();
        }
    }

    /**
     * Every version and delete marker in the bucket has had its event handed over. RGW raises an
     * event per new version and per delete marker, so the bucket's version listing is the list of
     * events raised so far (the product never deletes a version by id).
     */
    @Override
    public boolean awaitDelivered(Duration timeout) throws InterruptedException {
        if (receiver == null) {
            return true;
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        try (S3Client s3 = s3()) {
            while (true) {
                String missing = firstUndelivered(s3);
                if (missing == null && inFlight.get() == 0) {
                    return true;
                }
                if (System.nanoTime() > deadline) {
                    System.err.println("RGW event not delivered in " + timeout.toSeconds() + " s: "
                            + (missing == null ? "a push still in a handler" : missing.replace('\0', '@')));
                    return false;
                }
                Thread.sleep(50);
            }
        }
    }

    private String firstUndelivered(S3Client s3) {
        for (ListObjectVersionsResponse page : s3.listObjectVersionsPaginator(b -> b.bucket(bucket))) {
            for (ObjectVersion v : page.versions()) {
                if (!delivered.contains(v.key() + '\0' + v.versionId())) {
                    return v.key() + '\0' + v.versionId();
                }
            }
            for (DeleteMarkerEntry m : page.deleteMarkers()) {
                if (!delivered.contains(m.key() + '\0' + m.versionId())) {
                    return m.key() + '\0' + m.versionId();
                }
            }
        }
        return null;
    }

    /** The cluster's resident memory (KiB) and start time, for the pass's log. */
    public String stats() {
        return "start " + cluster.startTime().toMillis() + " ms, resident " + cluster.residentKib() / 1024 + " MiB";
    }

    private S3Client s3() {
        return S3Client.builder().endpointOverride(cluster.endpoint()).region(Region.of(REGION)).forcePathStyle(true)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(
                        credentials.accessKeyId(), credentials.secretAccessKey())))
                .build();
    }

    @Override
    public void close() {
        deliver = null;
        if (cluster != null) {
            System.out.println("Ceph RGW " + cluster.endpoint() + ": " + stats());
        }
        if (receiver != null) {
            receiver.stop(0);
            receiver = null;
        }
        if (cluster != null) {
            cluster.close();
            cluster = null;
        }
    }
}
