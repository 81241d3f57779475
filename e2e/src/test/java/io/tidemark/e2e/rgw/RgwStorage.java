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
 * JVM, which hands each event to local-cloud's real handlers. A persistent topic keeps an event
 * and pushes it again until the receiver answers 200, so events raised while local-cloud is
 * stopped (the receiver answers 503, after waiting up to {@link #HELD_PUSH_WAIT} for the next
 * local-cloud) reach the next one.
 *
 * <p>RGW's events are AWS-shaped with {@code eventSource} {@code ceph:s3} and an empty
 * {@code awsRegion}; the product's parser reads neither, so those stay. The key and the
 * sequencer, which the handlers do read, are put in AWS's form ({@link #awsShaped}).
 */
public final class RgwStorage implements ExternalStorage {

    /** Memstore keeps every object in the OSD's memory; the largest test stores a few hundred MB. */
    private static final long MEMSTORE_BYTES = 4L << 30;
    private static final String TOPIC = "tidemark-functions";
    private static final String REGION = "us-east-1";
    /**
     * How long a push that arrives while delivery is held waits for delivery to resume before it is
     * refused (503). RGW 16 pushes a refused event again at once, with no pause, and each push risks
     * a lost wake-up in RGW's HTTP client that leaves the topic's queue stuck until radosgw restarts
     * (docs/testing.md, "Where RGW differs"): refusing at once made that hundreds of pushes a second
     * for as long as delivery was held. Waiting makes it one a second, and a push that arrives while
     * held is handed over as soon as delivery resumes.
     */
    static final Duration HELD_PUSH_WAIT = Duration.ofSeconds(1);
    private static final com.fasterxml.jackson.databind.ObjectMapper JSON = new com.fasterxml.jackson.databind.ObjectMapper();

    private RgwCluster cluster;
    private LocalCredentials credentials;
    private HttpServer receiver;
    private java.util.concurrent.ExecutorService receiverThreads;
    private volatile Function<byte[], Integer> deliver;
    private String bucket;
    private String topicArn;
    private final AtomicInteger inFlight = new AtomicInteger();
    /** Pushes being handed over to {@link #deliver}; counted before it is read (see {@link #holdDelivery}). */
    private final AtomicInteger handingOver = new AtomicInteger();
    /** Notified when {@link #deliver} is set, so that a held push is handed over at once. */
    private final Object deliverSet = new Object();
    private final AtomicInteger refused = new AtomicInteger();
    private volatile long lastPushNanos;
    private volatile int lastPushStatus;
    /** Per key, the events handed over. */
    private final java.util.Map<String, Delivered> delivered = new ConcurrentHashMap<>();

    /**
     * The events of one key handed over: version ids where the event carries one, otherwise a
     * count (RGW 16 leaves {@code versionId} empty in the event of a CompleteMultipartUpload).
     */
    private static final class Delivered {
        final Set<String> versions = ConcurrentHashMap.newKeySet();
        final AtomicInteger versionsWithoutId = new AtomicInteger();
        final Set<String> markers = ConcurrentHashMap.newKeySet();
        final AtomicInteger removalsWithoutId = new AtomicInteger();

        void add(S3EventNotification.Record r) {
            boolean id = r.versionId() != null && !r.versionId().isEmpty();
            if (r.isObjectCreated()) {
                if (id) {
                    versions.add(r.versionId());
                } else {
                    versionsWithoutId.incrementAndGet();
                }
            } else if (id) {
                markers.add(r.versionId());
            } else {
                removalsWithoutId.incrementAndGet();
            }
        }
    }

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
        startReceiver();
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
    public void deliverEvents(String bucket, Function<byte[], Integer> deliver) {
        this.deliver = deliver;
        synchronized (deliverSet) {
            deliverSet.notifyAll();
        }
        if (this.bucket != null) {
            return; // a restarted local-cloud: the bucket's notification stays
        }
        this.bucket = bucket;
        try (S3Client s3 = s3()) {
            s3.putBucketVersioning(b -> b.bucket(bucket).versioningConfiguration(v -> v
                    .status(BucketVersioningStatus.ENABLED)));
            s3.putBucketNotificationConfiguration(b -> b.bucket(bucket).notificationConfiguration(n -> n
                    .topicConfigurations(t -> t.id(TOPIC).topicArn(topicArn)
                            .events(Event.S3_OBJECT_CREATED, Event.S3_OBJECT_REMOVED))));
        }
    }

    /**
     * The receiver and the persistent topic pushing to it. Made at start because radosgw looks for
     * new persistent queues only every 30 s: the first events wait for that, which then overlaps
     * with local-cloud's and the test's set-up.
     */
    private void startReceiver() {
        try {
            receiver = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 16);
        } catch (IOException e) {
            throw new IllegalStateException("cannot start the RGW event receiver: " + e.getMessage(), e);
        }
        receiver.createContext("/", this::receive);
        receiverThreads = Executors.newFixedThreadPool(2, Thread.ofPlatform().daemon().name("rgw-events-", 0).factory());
        receiver.setExecutor(receiverThreads);
        receiver.start();
        URI pushTo = URI.create("http://127.0.0.1:" + receiver.getAddress().getPort() + "/");
        topicArn = RgwTopics.createPersistent(cluster.endpoint(), credentials, REGION, TOPIC, pushTo);
    }

    private void receive(HttpExchange exchange) throws IOException {
        inFlight.incrementAndGet();
        lastPushNanos = System.nanoTime();
        try (exchange) {
            byte[] body;
            try (InputStream in = exchange.getRequestBody()) {
                body = in.readAllBytes();
            }
            Function<byte[], Integer> target = awaitTarget();
            if (target == null) {
                // local-cloud is stopped: RGW keeps the event and pushes it again
                refused.incrementAndGet();
                lastPushStatus = 503;
                exchange.sendResponseHeaders(503, -1);
                return;
            }
            int status = 200;
            try {
                byte[] aws = awsShaped(body);
                S3EventNotification event = S3EventNotification.parse(aws);
                target.apply(aws);
                for (S3EventNotification.Record r : event.records()) {
                    delivered.computeIfAbsent(r.key(), k -> new Delivered()).add(r);
                }
            } catch (RuntimeException e) {
                System.err.println("RGW S3 event not handed over (RGW pushes it again): " + e);
                status = 500;
            } finally {
                handingOver.decrementAndGet();
            }
            lastPushStatus = status;
            exchange.sendResponseHeaders(status, -1);
        } finally {
            inFlight.decrementAndGet();
        }
    }

    /**
     * Where to hand the push over, waiting up to {@link #HELD_PUSH_WAIT} while delivery is held; null
     * when it stays held. A non-null answer is counted in {@link #handingOver}, which the caller
     * decrements when the handler is done.
     */
    private Function<byte[], Integer> awaitTarget() {
        long deadline = System.nanoTime() + HELD_PUSH_WAIT.toNanos();
        synchronized (deliverSet) {
            while (true) {
                handingOver.incrementAndGet();
                Function<byte[], Integer> target = deliver;
                if (target != null) {
                    return target;
                }
                handingOver.decrementAndGet();
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return null;
                }
                try {
                    deliverSet.wait(Math.max(1, left / 1_000_000));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt(); // the receiver is closing
                    return null;
                }
            }
        }
    }

    /**
     * Stops handing events over until {@link #deliverEvents}: a push waits up to
     * {@link #HELD_PUSH_WAIT} for it, then is refused (503) and RGW keeps the event.
     */
    void holdDelivery() {
        deliver = null;
        // a push already handed over finishes with the old local-cloud before it closes: a handler
        // counts itself in handingOver before it reads deliver, so one that read the old target is
        // seen here (one that reads null waits, and is not counted while it does)
        while (handingOver.get() > 0) {
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /**
     * Waits until the receiver has refused a push (503) since {@code before} refusals, which only
     * happens while delivery is held; false on timeout.
     */
    boolean awaitRefused(int before, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (refused.get() <= before) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            Thread.sleep(20);
        }
        return true;
    }

    /** Pushes refused (503) so far. */
    int refusedPushes() {
        return refused.get();
    }

    /**
     * The event in AWS's shape where RGW 16's differs in a way the handlers read:
     * <ul>
     *   <li>{@code s3.object.key} URL-encoded as S3 writes it: RGW puts the key in as it is, so a
     *       key with {@code +}, {@code %} or a space would reach the handlers as another key (the
     *       parser decodes, as it must for AWS's events);</li>
     *   <li>{@code s3.object.sequencer} made to grow with time, as S3's does for the events of one
     *       key: RGW writes the event's time as seconds and nanoseconds, each a little-endian
     *       32-bit word ({@code C05C156B4C693826} is second 0x6B155CC0, nanosecond 0x2638694C),
     *       so its text does not sort by time and a delete could look older than the PUT before
     *       it. Rewritten big-endian ({@code 6B155CC02638694C}).</li>
     * </ul>
     */
    static byte[] awsShaped(byte[] body) {
        try {
            com.fasterxml.jackson.databind.JsonNode root = JSON.readTree(body);
            for (com.fasterxml.jackson.databind.JsonNode r : root.path("Records")) {
                com.fasterxml.jackson.databind.JsonNode object = r.path("s3").path("object");
                if (object instanceof com.fasterxml.jackson.databind.node.ObjectNode o) {
                    if (o.hasNonNull("key")) {
                        o.put("key", S3EventNotification.encodeKey(o.get("key").asText()));
                    }
                    if (o.hasNonNull("sequencer")) {
                        o.put("sequencer", sequencer(o.get("sequencer").asText()));
                    }
                }
            }
            return JSON.writeValueAsBytes(root);
        } catch (IOException e) {
            throw new IllegalArgumentException("RGW event is not JSON: " + e.getMessage(), e);
        }
    }

    /** RGW's sequencer (two little-endian 32-bit words) as big-endian hex; anything else as it is. */
    static String sequencer(String rgw) {
        if (!rgw.matches("[0-9A-Fa-f]{16}")) {
            return rgw;
        }
        return reversedBytes(rgw.substring(0, 8)) + reversedBytes(rgw.substring(8));
    }

    private static String reversedBytes(String hex) {
        StringBuilder out = new StringBuilder(hex.length());
        for (int i = hex.length() - 2; i >= 0; i -= 2) {
            out.append(hex, i, i + 2);
        }
        return out.toString().toUpperCase(java.util.Locale.ROOT);
    }

    @Override
    public void stopWithLocalCloud() {
        holdDelivery();
        cluster.stopGateway();
        releaseQueue();
    }

    /**
     * Frees the persistent topic's queue (an object named after the topic in the log pool's
     * {@code notif} namespace) from the lock of a killed gateway, so the next one pushes its
     * events as soon as it looks for queues (every 30 s) instead of after the lock expires.
     */
    private void releaseQueue() {
        cluster.breakLocks("default.rgw.log", "notif", TOPIC);
    }

    @Override
    public void startWithLocalCloud() {
        cluster.startGateway();
    }

    /**
     * Waits until every version and delete marker in the bucket has had its event handed over.
     * RGW raises an event per new version and per delete marker, so the bucket's version listing
     * is the list of events raised so far (the product never deletes a version by id, which would
     * leave no trace in it). Events are matched by version id, or counted per key where RGW sends
     * none.
     */
    @Override
    public boolean awaitDelivered(Duration timeout) throws InterruptedException {
        if (bucket == null) {
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
                            + (missing == null ? "a push still in a handler" : missing) + "; " + lastPush());
                    return false;
                }
                Thread.sleep(50);
            }
        }
    }

    /**
     * When RGW last pushed and how the receiver answered: with an event missing and no push for
     * many seconds, RGW's queue is stuck (the lost wake-up in docs/testing.md), not the receiver.
     */
    private String lastPush() {
        long at = lastPushNanos;
        return at == 0 ? "RGW has pushed nothing yet"
                : "RGW's last push came " + (System.nanoTime() - at) / 1_000_000 + " ms ago and was answered "
                        + lastPushStatus;
    }

    /** The first version or delete marker whose event has not been handed over, or null. */
    private String firstUndelivered(S3Client s3) {
        java.util.Map<String, int[]> unmatched = new java.util.LinkedHashMap<>(); // key -> {versions, markers}
        for (ListObjectVersionsResponse page : s3.listObjectVersionsPaginator(b -> b.bucket(bucket))) {
            for (ObjectVersion v : page.versions()) {
                Delivered d = delivered.get(v.key());
                if (d == null || !d.versions.contains(v.versionId())) {
                    unmatched.computeIfAbsent(v.key(), k -> new int[2])[0]++;
                }
            }
            for (DeleteMarkerEntry m : page.deleteMarkers()) {
                Delivered d = delivered.get(m.key());
                if (d == null || !d.markers.contains(m.versionId())) {
                    unmatched.computeIfAbsent(m.key(), k -> new int[2])[1]++;
                }
            }
        }
        for (var e : unmatched.entrySet()) {
            Delivered d = delivered.get(e.getKey());
            int withoutId = d == null ? 0 : d.versionsWithoutId.get();
            int removalsWithoutId = d == null ? 0 : d.removalsWithoutId.get();
            if (e.getValue()[0] > withoutId) {
                return e.getKey() + ": " + e.getValue()[0] + " version(s) without their ObjectCreated event";
            }
            if (e.getValue()[1] > removalsWithoutId) {
                return e.getKey() + ": " + e.getValue()[1] + " delete marker(s) without their ObjectRemoved event";
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
            receiverThreads.shutdownNow();
            receiver = null;
        }
        if (cluster != null) {
            cluster.close();
            cluster = null;
        }
    }
}
