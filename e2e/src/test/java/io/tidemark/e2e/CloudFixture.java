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
    // IAM enforcement (off unless enforce(...) is called); the credentials port survives restarts
    private io.tidemark.localcloud.iam.AccessPolicy policy;
    private io.tidemark.localcloud.iam.StackIdentities identities;
    private java.time.Duration rotation;
    private java.time.Duration lifetime;
    private int credentialsPort;

    /**
     * Session keys of every principal change every minute and die after two: every test that
     * spans more than a minute or two runs through rotations, and one that keeps a key dies.
     */
    static final java.time.Duration DEFAULT_ROTATION = java.time.Duration.ofSeconds(
            Long.getLong("tidemark.e2e.rotationSeconds", 60));
    static final java.time.Duration DEFAULT_LIFETIME = DEFAULT_ROTATION.multipliedBy(2);

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
        if (policy == null && storage == null) {
            // Under the stack's IAM by default, as in AWS (the external S3 has its own users and keys)
            io.tidemark.localcloud.iam.StackAccess access = LocalCloud.defaultStackAccess();
            enforce(access, access, DEFAULT_ROTATION, DEFAULT_LIFETIME);
        }
        if (policy != null) {
            builder.enforce(policy, identities).credentialsPort(credentialsPort);
            if (rotation != null) {
                builder.credentialRotation(rotation, lifetime);
            }
        }
        cloud = builder.start();
        if (cloud.enforcing()) {
            credentialsPort = cloud.operatorCredentialsUri().getPort();
        }
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
            // every refusal of this run in the test's output, to read next to what the test expected
            java.util.List<io.tidemark.localcloud.Denial> denials = cloud.denials();
            if (!denials.isEmpty()) {
                System.out.println("local-cloud refused " + denials.size() + " call(s):");
                denials.forEach(d -> System.out.println("  " + d));
            }
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
     * Makes the cloud enforce IAM (from the next {@link #start()}): {@code policy} judges every
     * call, each principal reads session keys that rotate every {@code rotation} and live
     * {@code lifetime} (null: local-cloud's defaults).
     */
    public CloudFixture enforce(io.tidemark.localcloud.iam.AccessPolicy policy,
            io.tidemark.localcloud.iam.StackIdentities identities, java.time.Duration rotation,
            java.time.Duration lifetime) {
        this.policy = policy;
        this.identities = identities;
        this.rotation = rotation;
        this.lifetime = lifetime;
        return this;
    }

    /**
     * A call to the local API as the operator, as a test or an operator's tool makes it: signed
     * (SigV4, service execute-api, the operator's static key pair) and carrying the API key of the
     * stanza the path names ({@code /stanzas/<stanza>/...}; the stack has one key per stanza and
     * the operator uses that stanza's) when the cloud enforces IAM, plain otherwise (the
     * unenforced API checks no signature and no key).
     */
    public java.net.http.HttpResponse<String> api(String method, String path, String body)
            throws IOException, InterruptedException {
        String apiKey = null;
        if (cloud.enforcing()) {
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("^/stanzas/([^/?]+)").matcher(path);
            if (!m.find()) {
                throw new IllegalArgumentException(path + " names no stanza: pass the API key to use");
            }
            apiKey = cloud.apiKey(m.group(1));
        }
        return api(method, path, body, apiKey);
    }

    /** As above with {@code apiKey} as {@code x-api-key} (none when null). */
    public java.net.http.HttpResponse<String> api(String method, String path, String body, String apiKey)
            throws IOException, InterruptedException {
        // the unenforced API checks no signature: unsigned there
        return new io.tidemark.testkit.aws.SignedApiCall(cloud.region(), cloud.enforcing()
                ? software.amazon.awssdk.identity.spi.AwsCredentialsIdentity.create(cloud.credentials().accessKeyId(),
                        cloud.credentials().secretAccessKey())
                : null, apiKey).send(method, java.net.URI.create(cloud.apiUrl() + path), body);
    }

    /**
     * The catalog's document of {@code stanza} ({@code GET /stanzas/{stanza}} as the operator): what
     * {@code tidemark info --output json} prints, without {@code archiveLag} and {@code droppedWal}.
     * For polling the catalog in a wait: no shim JVM per poll (a test that shows what info
     * prints still runs info).
     */
    public com.fasterxml.jackson.databind.JsonNode stanzaDocument(String stanza) {
        try {
            java.net.http.HttpResponse<String> r = api("GET", "/stanzas/" + stanza, null);
            if (r.statusCode() != 200) {
                throw new AssertionError("GET /stanzas/" + stanza + ": HTTP " + r.statusCode() + ": " + r.body());
            }
            return new com.fasterxml.jackson.databind.ObjectMapper().readTree(r.body());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted reading the stanza document", e);
        }
    }

    /**
     * {@link #nodeConfig(Path, String)} for a node of {@code stanza}: adds {@code stanza=} and, when
     * the cloud enforces IAM, {@code credentials.uri} naming the stanza's node credentials (the
     * node's role), since tidemark.conf then holds no key, and the stanza's {@code api.key}.
     */
    public Path nodeConfig(Path nodeDir, String stanza, String extraLines) {
        String credentials = cloud.enforcing() ? "credentials.uri=" + cloud.nodeCredentialsUri(stanza) + "\n"
                + "api.key=" + cloud.apiKey(stanza) + "\n" : "";
        return nodeConfig(nodeDir, "stanza=" + stanza + "\n" + credentials + extraLines);
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
            if (text.contains("s3.secretAccessKey")) {
                // static keys: the shim refuses a file others can read; the postgres user owns it
                Files.setPosixFilePermissions(conf, PosixFilePermissions.fromString("rw-------"));
                io.tidemark.testkit.RunAs.detect().giveOwnership(conf);
            } else {
                Files.setPosixFilePermissions(conf, PosixFilePermissions.fromString("rw-r--r--"));
            }
            Files.setPosixFilePermissions(spool, PosixFilePermissions.fromString("rwxrwxrwx"));
            return conf;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Gives the stanza's directory in the node spool of {@code conf} (made by {@link #nodeConfig})
     * to the user PostgreSQL runs as, mode 700, as on a node where that user runs tidemark: its
     * archive-get and WAL prefetcher keep their spool there. Root's commands, run by the tests,
     * now make it for that user themselves when they know the data directory (stanza-create does);
     * this makes it before any of them runs.
     */
    public static void stanzaSpoolForPostgres(Path conf, String stanza) {
        try {
            Path d = Files.createDirectories(conf.resolveSibling("spool").resolve(stanza));
            Files.setPosixFilePermissions(d, PosixFilePermissions.fromString("rwx------"));
            io.tidemark.testkit.RunAs.detect().giveOwnership(d);
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

    /**
     * The product's functions' AWS clients as the stack function {@code stackFunctionName}'s role
     * (under enforcement; the unenforced cloud's one key otherwise): what a test uses to act as
     * that function would, e.g. delete an object as the retention function (the only principal
     * the bucket policy lets delete), so the removal event flows as it would in AWS.
     */
    public io.tidemark.functions.runtime.AwsClients clientsAs(String stackFunctionName) {
        return io.tidemark.functions.runtime.AwsClients.create(cloud.functionConfigAs(stackFunctionName));
    }

    /**
     * Replaces (or creates) {@code key} with no condition, as the bucket's owner could behind the
     * bucket policy (which refuses every principal a PUT without If-None-Match under a stanza):
     * local-cloud's raw storage, or the external storage's own key (RGW, with no bucket policy).
     * What a test uses to model damage or an attacker who got past IAM.
     */
    public void overwrite(String key, byte[] body, java.util.Map<String, String> metadata) {
        if (storage == null) {
            cloud.rawStorage().write(key, body, metadata);
            return;
        }
        LocalCloud c = cloud;
        try (S3Client s3 = S3Client.builder().endpointOverride(c.s3Endpoint()).region(Region.of(c.region()))
                .forcePathStyle(true)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(
                        c.credentials().accessKeyId(), c.credentials().secretAccessKey())))
                .build()) {
            s3.putObject(b -> b.bucket(c.bucket()).key(key).metadata(metadata),
                    software.amazon.awssdk.core.sync.RequestBody.fromBytes(body));
        }
    }

    /** Every key under {@code prefix}, as the bucket's owner lists them. */
    public Set<String> objectKeys(String prefix) {
        LocalCloud c = cloud;
        try (S3Client s3 = S3Client.builder().endpointOverride(c.s3Endpoint()).region(Region.of(c.region()))
                .forcePathStyle(true)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(
                        c.credentials().accessKeyId(), c.credentials().secretAccessKey())))
                .build()) {
            Set<String> keys = new HashSet<>();
            for (S3Object o : s3.listObjectsV2Paginator(b -> b.bucket(c.bucket()).prefix(prefix)).contents()) {
                keys.add(o.key());
            }
            return keys;
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
