package io.tidemark.localcloud;

import com.amazonaws.services.lambda.runtime.RequestStreamHandler;
import io.tidemark.functions.runtime.AwsClients;
import io.tidemark.functions.runtime.FunctionConfig;
import io.tidemark.localcloud.iam.AccessPolicy;
import io.tidemark.localcloud.iam.StackIdentities;
import java.io.IOException;
import java.net.URI;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeDefinition;
import software.amazon.awssdk.services.dynamodb.model.BillingMode;
import software.amazon.awssdk.services.dynamodb.model.KeySchemaElement;
import software.amazon.awssdk.services.dynamodb.model.KeyType;
import software.amazon.awssdk.services.dynamodb.model.ResourceNotFoundException;
import software.amazon.awssdk.services.dynamodb.model.ScalarAttributeType;
import software.amazon.awssdk.services.dynamodb.model.TableDescription;

/**
 * The Tidemark cloud on one machine: an S3 endpoint (S3Proxy on files under {@code DIR/s3}),
 * DynamoDB Local (under {@code DIR/dynamodb}), and a local HTTP API, all on one host (default
 * 127.0.0.1), with the registered functions invoked in-process with real event JSON.
 *
 * <pre>{@code
 * try (LocalCloud cloud = LocalCloud.builder()
 *         .dir(dir)
 *         .onObjectCreated("main/wal/", null, WalIndexer::new)
 *         .route("GET", "/stanzas/{stanza}", CatalogHandler::new)
 *         .start()) {
 *     ... cloud.s3Endpoint(), cloud.credentials(), cloud.apiUrl() ...
 *     cloud.awaitQuiescent(Duration.ofSeconds(10));
 * }
 * }</pre>
 *
 * <p>Everything lives under the directory, so a restart on the same directory keeps objects,
 * table items and the key pair. One local cloud at a time may use a directory.
 */
public final class LocalCloud implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(LocalCloud.class);

    public static final String DEFAULT_HOST = "127.0.0.1";
    public static final String DEFAULT_REGION = "us-east-1";
    public static final String DEFAULT_BUCKET = "tidemark";
    public static final String DEFAULT_TABLE = "tidemark";
    /** Partition and sort key of the single catalog table. */
    public static final String PARTITION_KEY = "PK";
    public static final String SORT_KEY = "SK";

    private static final Pattern FUNCTION_NAME = Pattern.compile("[A-Za-z0-9_-]{1,64}");
    private static final Duration S3_FUNCTION_TIMEOUT = Duration.ofMinutes(15);

    private final Path dir;
    private final String host;
    private final String region;
    private final String bucket;
    private final String table;
    private final Map<String, String> extraSettings;
    private final boolean tls;
    private final ExternalStorage external;
    private LocalTls tlsFiles;

    private FileChannel lockChannel;
    private FileLock lock;
    private LocalCredentials credentials;
    private LocalPlanKey planKey;
    private S3EventDispatcher dispatcher;
    private LocalDynamoDb dynamoDb;
    private Path dynamoDbDir;
    private LocalS3 s3;
    private LocalApi api;
    private LocalScheduler scheduler;
    private FunctionConfig functionConfig;
    private Path configFile;
    // built at start, and by the delivery threads when S3 events overlap: closed once each
    private final java.util.Set<RequestStreamHandler> handlers = java.util.Collections.synchronizedSet(
            java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>()));
    private final List<BackgroundWork> background;
    private final List<BackgroundWork> startedBackground = new ArrayList<>();
    private final LocalMetrics metrics;
    private boolean closed;
    // IAM enforcement (null when off): see Builder.enforce
    private final AccessPolicy policy;
    private final StackIdentities identities;
    private final Map<String, String> functionRoles;
    private Enforcement enforcement;
    private CredentialsEndpoint credentialsEndpoint;
    private DynamoDbGate dynamoDbGate;
    private LocalApiKeys apiKeys;
    private final String nodeStanza;

    private LocalCloud(Builder b, Path dir) {
        this.dir = dir;
        this.host = b.host;
        this.region = b.region;
        this.bucket = b.bucket;
        this.table = b.table;
        this.extraSettings = Map.copyOf(b.settings);
        this.tls = b.tls;
        this.external = b.external;
        this.background = List.copyOf(b.background);
        this.metrics = b.metrics;
        this.nodeStanza = b.nodeStanza;
        this.policy = b.policy;
        this.identities = b.identities;
        this.functionRoles = Map.copyOf(b.functionRoles);
    }

    /**
     * S3 and DynamoDB endpoints that run elsewhere (LocalStack): local-cloud then starts neither
     * S3Proxy nor DynamoDB Local, creates the bucket and table there, and its functions get the
     * S3 events that whoever watches that storage hands to {@link #deliverS3Event(byte[])}.
     */
    private record ExternalStorage(URI s3, URI dynamoDb, LocalCredentials s3Credentials) {
    }

    /** Whether DynamoDB Local runs here (always, unless external storage brings its own DynamoDB). */
    private boolean ownDynamoDb() {
        return external == null || external.dynamoDb() == null;
    }

    /**
     * The deployed stack's IAM (the synthesized template) for a local cloud with the default
     * region, bucket and table: what {@code tidemark local-cloud} and the end-to-end tests enforce.
     */
    public static io.tidemark.localcloud.iam.StackAccess defaultStackAccess() {
        return io.tidemark.localcloud.iam.StackAccess.load(new io.tidemark.localcloud.iam.LocalAccount(
                DEFAULT_REGION, DEFAULT_BUCKET, DEFAULT_TABLE, "local"));
    }

    public static Builder builder() {
        return new Builder();
    }

    private void start(Builder b) {
        long t0 = System.nanoTime();
        prepareDirectory();
        lockDirectory();
        try {
            credentials = external != null && external.s3Credentials() != null
                    ? external.s3Credentials() : LocalCredentials.loadOrCreate(dir);
            planKey = LocalPlanKey.loadOrCreate(dir);
            Files.createDirectories(dir.resolve("s3"));
            dynamoDbDir = DynamoDbDirectory.of(dir);
            Files.createDirectories(dynamoDbDir);
        } catch (IOException e) {
            throw new LocalCloudException("cannot write to " + dir + ": " + e.getMessage(), e);
        }
        dispatcher = new S3EventDispatcher(region, b.retryDelays, S3_FUNCTION_TIMEOUT, b.s3EventConcurrency);
        if (policy != null) {
            startEnforcement(b);
        }
        long t1 = System.nanoTime();
        if (ownDynamoDb()) {
            // with enforcement DynamoDB Local listens on a port of its own, behind the gate
            dynamoDb = LocalDynamoDb.start(dynamoDbDir, host, enforcement == null ? b.dynamoDbPort : 0);
            if (enforcement != null) {
                dynamoDbGate = DynamoDbGate.start(host, b.dynamoDbPort, dynamoDb.endpoint(), enforcement);
            }
        }
        long t2 = System.nanoTime();
        tlsFiles = tls ? LocalTls.ensure(dir, host) : null;
        if (external == null) {
            s3 = LocalS3.start(dir.resolve("s3"), host, b.s3Port, bucket, credentials, dispatcher, tlsFiles, enforcement,
                    b.comparisonBucket);
        }
        long t3 = System.nanoTime();
        functionConfig = FunctionConfig.of(functionEnvironment());
        // Creating the table is the deployment's doing (CloudFormation), not a principal's call.
        Map<String, String> setup = functionEnvironment();
        if (dynamoDbGate != null) {
            setup.put(FunctionConfig.DYNAMODB_ENDPOINT, dynamoDb.endpoint().toString());
        }
        try (AwsClients aws = AwsClients.create(FunctionConfig.of(setup))) {
            ensureTable(aws.dynamoDb());
            if (external != null) {
                ensureBucket(aws);
            }
        }
        long t4 = System.nanoTime();
        LOG.debug("startup: dynamodb {} ms, s3 {} ms, table {} ms",
                (t2 - t1) / 1_000_000, (t3 - t2) / 1_000_000, (t4 - t3) / 1_000_000);

        for (BackgroundWork w : background) {
            w.start(configFor(w.functionName()));
            startedBackground.add(w);
        }
        List<S3EventDispatcher.Target> targets = new ArrayList<>();
        for (ObjectCreatedSubscription s : b.subscriptions) {
            // one instance now (a failing factory fails the start), more when events overlap
            RequestStreamHandler first = instantiate(s.name(), s.factory());
            S3EventDispatcher.Target target = new S3EventDispatcher.Target(s, () -> instantiate(s.name(), s.factory()));
            target.release(first);
            targets.add(target);
        }
        List<LocalApi.Route> routes = new ArrayList<>();
        for (RouteSpec r : b.routes) {
            routes.add(new LocalApi.Route(r.method(), r.template(), r.name(), instantiate(r.name(), r.factory())));
        }
        dispatcher.activate(targets);
        api = LocalApi.start(host, b.apiPort, region, routes, enforcement == null ? null : new ApiGate(enforcement, apiKeys));
        startScheduler(b);

        if (b.writeConfigFile) {
            try {
                configFile = ClientConfigFile.write(dir, ClientConfigFile.entries(this), credentialsEndpoint == null
                        ? null : credentialsEndpoint.base().resolve(CredentialsEndpoint.PREFIX));
            } catch (IOException e) {
                throw new LocalCloudException("cannot write " + dir.resolve(ClientConfigFile.FILE_NAME) + ": "
                        + e.getMessage(), e);
            }
        }
        LOG.debug("local-cloud started in {} ms: s3={} dynamodb={} api={}",
                (System.nanoTime() - t0) / 1_000_000, s3Endpoint(), dynamoDbEndpoint(), api.url());
    }

    /** The builder's schedules plus {@code DIR/schedules.json}, each bound to its scheduled function. */
    private void startScheduler(Builder b) {
        List<LocalSchedule> all = new ArrayList<>(b.schedules);
        all.addAll(LocalSchedule.load(dir));
        Map<String, RequestStreamHandler> functions = new LinkedHashMap<>();
        List<LocalScheduler.Bound> bound = new ArrayList<>();
        for (LocalSchedule s : all) {
            HandlerFactory factory = b.scheduledFunctions.get(s.function());
            if (factory == null) {
                throw new LocalCloudException("schedule " + s.name() + " names function '" + s.function()
                        + "', which is not one of the scheduled functions " + b.scheduledFunctions.keySet());
            }
            bound.add(new LocalScheduler.Bound(s, functions.computeIfAbsent(s.function(),
                    f -> instantiate(f, factory))));
        }
        scheduler = new LocalScheduler(region, bound);
        scheduler.start();
    }

    private void prepareDirectory() {
        try {
            Files.createDirectories(dir);
        } catch (FileSystemException e) {
            throw new LocalCloudException("cannot create directory " + dir + ": " + reason(e), e);
        } catch (IOException e) {
            throw new LocalCloudException("cannot create directory " + dir + ": " + e.getMessage(), e);
        }
        if (!Files.isDirectory(dir)) {
            throw new LocalCloudException(dir + " is not a directory");
        }
        try {
            Path probe = Files.createTempFile(dir, ".write-probe", ".tmp");
            Files.delete(probe);
        } catch (IOException e) {
            throw new LocalCloudException("directory " + dir + " is not writable: " + e.getMessage(), e);
        }
    }

    private static String reason(FileSystemException e) {
        if (e.getReason() != null) {
            return e.getReason();
        }
        String where = e.getFile() == null ? "" : " (" + e.getFile() + ")";
        if (e instanceof java.nio.file.NoSuchFileException) {
            return "no such file or directory" + where;
        }
        if (e instanceof java.nio.file.AccessDeniedException) {
            return "permission denied" + where;
        }
        if (e instanceof java.nio.file.FileAlreadyExistsException) {
            return "a file is in the way" + where;
        }
        return e.getClass().getSimpleName() + where;
    }

    private void lockDirectory() {
        try {
            lockChannel = FileChannel.open(dir.resolve(".lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            lock = lockChannel.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null;
        } catch (IOException e) {
            throw new LocalCloudException("cannot lock " + dir + ": " + e.getMessage(), e);
        }
        if (lock == null) {
            closeQuietly(lockChannel);
            lockChannel = null;
            throw new LocalCloudException("another tidemark local-cloud is already running on " + dir);
        }
    }

    private Map<String, String> functionEnvironment() {
        Map<String, String> env = new LinkedHashMap<>(extraSettings);
        env.put(FunctionConfig.BUCKET, bucket);
        env.put(FunctionConfig.TABLE, table);
        env.put(FunctionConfig.REGION, region);
        env.put(FunctionConfig.S3_ENDPOINT, s3Endpoint().toString());
        env.put(FunctionConfig.DYNAMODB_ENDPOINT, dynamoDbEndpoint().toString());
        env.put(FunctionConfig.S3_PATH_STYLE, "true");
        if (tlsFiles != null) {
            env.put(FunctionConfig.S3_CA_FILE, tlsFiles.caFile().toString());
        }
        env.putIfAbsent("TIDEMARK_PLAN_PRIVATE_KEY_FILE", planKey.file().toString());
        env.put(FunctionConfig.ACCESS_KEY_ID, credentials.accessKeyId());
        env.put(FunctionConfig.SECRET_ACCESS_KEY, credentials.secretAccessKey());
        return env;
    }

    private void ensureTable(DynamoDbClient client) {
        TableDescription existing = null;
        try {
            existing = client.describeTable(r -> r.tableName(table)).table();
        } catch (ResourceNotFoundException e) {
            // created below
        }
        if (existing == null) {
            client.createTable(r -> r.tableName(table)
                    .billingMode(BillingMode.PAY_PER_REQUEST)
                    .attributeDefinitions(
                            AttributeDefinition.builder().attributeName(PARTITION_KEY)
                                    .attributeType(ScalarAttributeType.S).build(),
                            AttributeDefinition.builder().attributeName(SORT_KEY)
                                    .attributeType(ScalarAttributeType.S).build())
                    .keySchema(
                            KeySchemaElement.builder().attributeName(PARTITION_KEY).keyType(KeyType.HASH).build(),
                            KeySchemaElement.builder().attributeName(SORT_KEY).keyType(KeyType.RANGE).build()));
            LOG.debug("created table {}", table);
            return;
        }
        List<KeySchemaElement> expected = List.of(
                KeySchemaElement.builder().attributeName(PARTITION_KEY).keyType(KeyType.HASH).build(),
                KeySchemaElement.builder().attributeName(SORT_KEY).keyType(KeyType.RANGE).build());
        if (!existing.keySchema().equals(expected)) {
            throw new LocalCloudException("table " + table + " in " + dynamoDbDir
                    + " has key schema " + existing.keySchema() + ", expected PK (HASH) and SK (RANGE)");
        }
    }

    private void startEnforcement(Builder b) {
        SessionKeys keys = new SessionKeys(b.rotation, b.lifetime, java.time.Clock.systemUTC());
        try {
            keys.persistIn(dir.resolve(SESSION_KEYS_FILE));
        } catch (IOException | RuntimeException e) {
            throw new LocalCloudException("cannot read or write " + dir.resolve(SESSION_KEYS_FILE) + ": " + e.getMessage(), e);
        }
        // the operator is an IAM user: its long-lived key pair is DIR/credentials.properties
        keys.addStatic(identities.operator(), credentials.accessKeyId(), credentials.secretAccessKey());
        enforcement = new Enforcement(policy, identities, keys);
        try {
            apiKeys = LocalApiKeys.loadOrCreate(dir, b.apiKeyRules != null ? b.apiKeyRules : ApiKeyRules.ofStack());
        } catch (IOException | RuntimeException e) {
            throw new LocalCloudException("cannot read " + dir.resolve(LocalApiKeys.FILE_NAME) + ": " + e.getMessage(), e);
        }
        credentialsEndpoint = CredentialsEndpoint.start(host, b.credentialsPort, enforcement, apiKeys);
        for (InProcessCallGate g : b.callGates) {
            g.bind(enforcement);
        }
        LOG.info("local-cloud enforces IAM: credentials at {} (new key every {}, each valid {})",
                credentialsEndpoint.base().resolve(CredentialsEndpoint.PREFIX), b.rotation, b.lifetime);
    }

    /**
     * The configuration of local function {@code name}: without enforcement the shared one (static
     * keys); with it, no keys but {@code TIDEMARK_CREDENTIALS_URI} naming its role's credentials
     * (none at all for background work that names no function).
     */
    private FunctionConfig configFor(String name) {
        if (enforcement == null) {
            return functionConfig;
        }
        String stackName = name == null ? NO_ROLE : functionRoles.get(name);
        if (stackName == null) {
            throw new LocalCloudException("function " + name + " has no role: with enforcement every function "
                    + "needs functionRole(\"" + name + "\", <stack function name>) (roles known: "
                    + new java.util.TreeMap<>(functionRoles) + ")");
        }
        return roleConfig(stackName);
    }

    /**
     * The functions' configuration acting as the stack function {@code stackFunctionName}'s role
     * (its session credentials, no static key), for tests that act as that function would; without
     * enforcement the shared configuration.
     */
    public FunctionConfig functionConfigAs(String stackFunctionName) {
        return enforcement == null ? functionConfig : roleConfig(stackFunctionName);
    }

    private FunctionConfig roleConfig(String stackName) {
        Map<String, String> env = functionEnvironment();
        env.remove(FunctionConfig.ACCESS_KEY_ID);
        env.remove(FunctionConfig.SECRET_ACCESS_KEY);
        if (!stackName.equals(NO_ROLE)) {
            env.put(FunctionConfig.CREDENTIALS_URI, credentialsEndpoint.function(stackName).toString());
        }
        return FunctionConfig.of(env);
    }

    private RequestStreamHandler instantiate(String name, HandlerFactory factory) {
        RequestStreamHandler handler;
        try {
            handler = factory.create(configFor(name));
        } catch (Exception e) {
            throw new LocalCloudException("function " + name + " failed to initialize: " + e, e);
        }
        if (handler == null) {
            throw new LocalCloudException("function " + name + ": its factory returned no handler");
        }
        handlers.add(handler);
        return handler;
    }

    public Path dir() {
        return dir;
    }

    public String host() {
        return host;
    }

    public String region() {
        return region;
    }

    public String bucket() {
        return bucket;
    }

    public String table() {
        return table;
    }

    /** The CA certificate clients must trust for the HTTPS S3 endpoint, when TLS is on. */
    public java.util.Optional<Path> s3CaFile() {
        return java.util.Optional.ofNullable(tlsFiles).map(LocalTls::caFile);
    }

    public URI s3Endpoint() {
        return external != null ? external.s3() : s3.endpoint();
    }

    public URI dynamoDbEndpoint() {
        return !ownDynamoDb() ? external.dynamoDb() : dynamoDbGate != null ? dynamoDbGate.endpoint() : dynamoDb.endpoint();
    }

    /** Whether this cloud enforces IAM ({@link Builder#enforce}). */
    public boolean enforcing() {
        return enforcement != null;
    }

    /**
     * Every call refused so far (policy denials, expired or unknown keys, bad signatures), oldest
     * first; each was also logged as one line. Empty without enforcement.
     */
    public List<Denial> denials() {
        return enforcement == null ? List.of() : enforcement.denials();
    }

    /** The stanza whose node credentials tidemark.conf names (with enforcement), or null. */
    public String nodeStanza() {
        return nodeStanza;
    }

    /** Where a node of {@code stanza} gets its role's session credentials (shim key {@code credentials.uri}). */
    public URI nodeCredentialsUri(String stanza) {
        return requireEnforcement().node(stanza);
    }

    /**
     * The API key of {@code stanza} (its nodes' {@code api.key}, sent as {@code x-api-key}), issued
     * on first use and kept in {@code DIR/api-keys.properties}; also served at
     * {@code GET <credentials endpoint>/credentials/api-key/<stanza>}. Only with enforcement, whose
     * API gate requires it.
     */
    public String apiKey(String stanza) {
        requireEnforcement();
        return apiKeys.keyOf(stanza);
    }

    /** Where a function's role credentials are served, by stack function name (WalIndex, CatalogApi, ...). */
    public URI functionCredentialsUri(String stackFunctionName) {
        return requireEnforcement().function(stackFunctionName);
    }

    /** The operator's session credentials (it also has the static key pair of {@link #credentials()}). */
    public URI operatorCredentialsUri() {
        return requireEnforcement().operator();
    }

    private CredentialsEndpoint requireEnforcement() {
        if (credentialsEndpoint == null) {
            throw new IllegalStateException("this local cloud does not enforce IAM: no credentials endpoint");
        }
        return credentialsEndpoint;
    }

    /**
     * The bucket's objects behind S3's back, with no key and no policy: for tests and fault
     * injection that simulate bit rot or an attacker with root on the storage host. No product
     * component gets this. Only for local-cloud's own S3.
     */
    public RawStorage rawStorage() {
        if (s3 == null) {
            throw new IllegalStateException("raw storage exists only for local-cloud's own S3, not external storage");
        }
        return new RawStorage(s3.store(), bucket);
    }

    private void ensureBucket(AwsClients aws) {
        try {
            aws.s3().headBucket(r -> r.bucket(bucket));
        } catch (software.amazon.awssdk.services.s3.model.NoSuchBucketException e) {
            aws.s3().createBucket(r -> r.bucket(bucket));
        } catch (software.amazon.awssdk.services.s3.model.S3Exception e) {
            if (e.statusCode() != 404) {
                throw new LocalCloudException("cannot check bucket " + bucket + " at " + s3Endpoint() + ": "
                        + e.getMessage(), e);
            }
            aws.s3().createBucket(r -> r.bucket(bucket));
        }
    }

    /**
     * Hands an S3 event notification (the JSON S3 sends to Lambda, SQS or SNS) from external
     * storage to the functions: each ObjectCreated, ObjectRemoved and LifecycleExpiration record of
     * this cloud's bucket is dispatched
     * like an event of local-cloud's own S3 (subscriptions, retries, {@link #awaitQuiescent},
     * {@link #failedEvents}). Records of other buckets and other event types are skipped.
     *
     * @return how many records were dispatched
     * @throws IllegalStateException when this cloud runs its own S3
     * @throws RuntimeException when {@code json} is not an S3 event notification
     */
    public int deliverS3Event(byte[] json) {
        if (external == null) {
            throw new IllegalStateException("local-cloud runs its own S3, which raises its events itself");
        }
        io.tidemark.functions.runtime.S3EventNotification event =
                io.tidemark.functions.runtime.S3EventNotification.parse(new java.io.ByteArrayInputStream(json));
        int n = 0;
        for (io.tidemark.functions.runtime.S3EventNotification.Record r : event.records()) {
            boolean removal = r.isObjectRemoved() || r.isLifecycleExpiration();
            if (!(r.isObjectCreated() || removal) || !bucket.equals(r.bucket())) {
                continue;
            }
            dispatcher.objectEvent(new S3EventJson.ObjectEvent(r.eventName(), r.eventTime(), r.bucket(), r.key(),
                    r.size(), r.eTag(), r.sequencer() != null ? r.sequencer() : dispatcher.nextSequencer(),
                    "external", r.sourceIpAddress(), r.versionId()));
            n++;
        }
        return n;
    }

    public URI apiUrl() {
        return api.url();
    }

    public LocalCredentials credentials() {
        return credentials;
    }

    /** The key restore plans are signed with ({@code DIR/plan-key.pem}). */
    public LocalPlanKey planKey() {
        return planKey;
    }

    /**
     * The configuration the functions were built with; also right for test clients. With
     * enforcement it carries the operator's static key pair (each function got its own role's
     * endpoint instead), so a client built from it acts as the operator.
     */
    public FunctionConfig functionConfig() {
        return functionConfig;
    }

    /** {@code DIR/tidemark.conf}, or null when the builder turned it off. */
    public Path configFile() {
        return configFile;
    }

    /** What {@code tidemark.conf} holds, as a map. */
    public Map<String, String> clientConfig() {
        return ClientConfigFile.entries(this);
    }

    /**
     * Runs the schedule {@code name} now (as its timer would, never alongside another run) and
     * returns the function's output.
     */
    public String runSchedule(String name) throws Exception {
        return scheduler.runNow(name);
    }

    /**
     * Waits until every S3 event raised so far has been handled by its functions (retries
     * included) or finally failed, and the background work they started (e.g. retention after a
     * valid backup) has finished. Returns false on timeout.
     */
    public boolean awaitQuiescent(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        // Events start background work, which may in turn write objects: until both are still.
        while (true) {
            if (!dispatcher.awaitQuiescent(remaining(deadline))) {
                return false;
            }
            boolean idleAtOnce = true;
            for (BackgroundWork w : startedBackground) {
                if (!w.awaitIdle(Duration.ZERO)) {
                    idleAtOnce = false;
                    if (!w.awaitIdle(remaining(deadline))) {
                        return false;
                    }
                }
            }
            if (idleAtOnce) {
                return true;
            }
        }
    }

    private static Duration remaining(long deadline) {
        return Duration.ofNanos(Math.max(0, deadline - System.nanoTime()));
    }

    /** What the functions published as metrics (embedded metric format), as CloudWatch would extract it. */
    public LocalMetrics metrics() {
        return metrics;
    }

    /** S3 events that a function still failed on after the last retry. */
    public List<FailedEvent> failedEvents() {
        return dispatcher.failures();
    }

    /** Stops the API, lets pending S3 events finish, closes the functions, S3 and DynamoDB. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (scheduler != null) {
            scheduler.close();
        }
        if (api != null) {
            api.close();
        }
        if (dispatcher != null) {
            dispatcher.close();
        }
        for (BackgroundWork w : startedBackground) {
            closeQuietly(w);
        }
        List<RequestStreamHandler> built;
        synchronized (handlers) {
            built = new ArrayList<>(handlers);
        }
        for (RequestStreamHandler h : built) {
            if (h instanceof AutoCloseable c) {
                closeQuietly(c);
            }
        }
        closeQuietly(s3);
        closeQuietly(dynamoDbGate);
        closeQuietly(dynamoDb);
        closeQuietly(credentialsEndpoint);
        if (lock != null) {
            try {
                lock.release();
            } catch (IOException ignored) {
                // closing the channel releases it as well
            }
        }
        closeQuietly(lockChannel);
    }

    private static void closeQuietly(AutoCloseable c) {
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (Exception e) {
            LOG.warn("error while stopping {}: {}", c.getClass().getSimpleName(), e.toString());
        }
    }

    /** The session keys issued so far (with enforcement), kept across restarts: {@code DIR/session-keys.tsv}. */
    static final String SESSION_KEYS_FILE = "session-keys.tsv";

    /** {@link Builder#functionRole} value of a local-only function that calls no AWS service. */
    public static final String NO_ROLE = "-";

    private record RouteSpec(String name, String method, RouteTemplate template, HandlerFactory factory) {
    }

    /** Settings and functions of a local cloud; {@link #start()} starts it. */
    public static final class Builder {
        private Path dir;
        private String host = DEFAULT_HOST;
        private int s3Port;
        private int dynamoDbPort;
        private int apiPort;
        private String region = DEFAULT_REGION;
        private String bucket = DEFAULT_BUCKET;
        private String table = DEFAULT_TABLE;
        private boolean writeConfigFile = true;
        private boolean tls;
        private ExternalStorage external;
        private List<Duration> retryDelays = List.of(Duration.ofSeconds(1), Duration.ofSeconds(2));
        private int s3EventConcurrency = S3EventDispatcher.DEFAULT_CONCURRENCY;
        private final Map<String, String> settings = new LinkedHashMap<>();
        private final List<ObjectCreatedSubscription> subscriptions = new ArrayList<>();
        private final List<RouteSpec> routes = new ArrayList<>();
        private final Map<String, HandlerFactory> scheduledFunctions = new LinkedHashMap<>();
        private final List<LocalSchedule> schedules = new ArrayList<>();
        private final List<BackgroundWork> background = new ArrayList<>();
        private final LocalMetrics metrics = new LocalMetrics();
        private String nodeStanza;
        private String comparisonBucket;
        private ApiKeyRules apiKeyRules;
        private int unnamed;
        private AccessPolicy policy;
        private StackIdentities identities;
        private final Map<String, String> functionRoles = new LinkedHashMap<>();
        private Duration rotation = SessionKeys.DEFAULT_ROTATION;
        private Duration lifetime = SessionKeys.DEFAULT_LIFETIME;
        private int credentialsPort;
        private final List<InProcessCallGate> callGates = new ArrayList<>();

        private Builder() {
        }

        /** The collector of the cloud being built: functions registered on this builder publish into it. */
        public LocalMetrics metrics() {
            return metrics;
        }

        /** Where everything is kept (required): {@code s3/}, {@code dynamodb/}, credentials, tidemark.conf. */
        public Builder dir(Path dir) {
            this.dir = Objects.requireNonNull(dir, "dir");
            return this;
        }

        /** Address every endpoint binds to; default 127.0.0.1. */
        public Builder host(String host) {
            this.host = Objects.requireNonNull(host, "host");
            return this;
        }

        /**
         * Serve S3 over HTTPS with a self-signed certificate kept in {@code DIR/tls} (its CA file goes
         * into tidemark.conf as {@code s3.caFile}); for clients that only speak S3 over TLS, such as pgBackRest.
         */
        /**
         * Use S3 and DynamoDB at these endpoints (LocalStack) instead of starting S3Proxy and
         * DynamoDB Local; S3 events then arrive through {@link LocalCloud#deliverS3Event(byte[])}.
         * Not with TLS.
         */
        public Builder externalStorage(URI s3Endpoint, URI dynamoDbEndpoint) {
            this.external = new ExternalStorage(Objects.requireNonNull(s3Endpoint, "s3Endpoint"),
                    Objects.requireNonNull(dynamoDbEndpoint, "dynamoDbEndpoint"), null);
            return this;
        }

        /**
         * Use S3 at this endpoint (Ceph RGW), which knows only its own users, instead of S3Proxy:
         * the functions, tidemark.conf and {@link LocalCloud#credentials()} carry {@code s3Credentials}
         * rather than the directory's generated pair. DynamoDB Local still runs here. S3 events
         * arrive through {@link LocalCloud#deliverS3Event(byte[])}. Not with TLS.
         */
        public Builder externalS3(URI s3Endpoint, LocalCredentials s3Credentials) {
            this.external = new ExternalStorage(Objects.requireNonNull(s3Endpoint, "s3Endpoint"), null,
                    Objects.requireNonNull(s3Credentials, "s3Credentials"));
            return this;
        }

        public Builder tls(boolean tls) {
            this.tls = tls;
            return this;
        }

        /** S3 port; 0 (the default) takes any free port. */
        public Builder s3Port(int port) {
            this.s3Port = checkPort(port);
            return this;
        }

        /** DynamoDB port; 0 (the default) takes any free port. */
        public Builder dynamoDbPort(int port) {
            this.dynamoDbPort = checkPort(port);
            return this;
        }

        /** API port; 0 (the default) takes any free port. */
        public Builder apiPort(int port) {
            this.apiPort = checkPort(port);
            return this;
        }

        public Builder region(String region) {
            this.region = Objects.requireNonNull(region, "region");
            return this;
        }

        public Builder bucket(String bucket) {
            this.bucket = Objects.requireNonNull(bucket, "bucket");
            return this;
        }

        public Builder table(String table) {
            this.table = Objects.requireNonNull(table, "table");
            return this;
        }

        /** Whether to write {@code DIR/tidemark.conf} (default true). */
        public Builder writeConfigFile(boolean write) {
            this.writeConfigFile = write;
            return this;
        }

        /**
         * Delays before the 2nd and 3rd attempt of a failed S3 event (default 1 s, 2 s; Lambda
         * waits about 1 and 2 minutes).
         */
        public Builder retryDelays(Duration first, Duration second) {
            this.retryDelays = List.of(Objects.requireNonNull(first), Objects.requireNonNull(second));
            return this;
        }

        /**
         * How many S3 events are handled at once (default {@value S3EventDispatcher#DEFAULT_CONCURRENCY}),
         * each by its own instance of the function, in no guaranteed order, as Lambda runs
         * invocations concurrently. 1 delivers one event at a time in completion order, which AWS
         * never promises: for measuring what concurrency changes, not for hiding races.
         */
        public Builder s3EventConcurrency(int concurrency) {
            if (concurrency < 1 || concurrency > S3EventDispatcher.MAX_CONCURRENCY) {
                throw new IllegalArgumentException("S3 event concurrency must be 1-" + S3EventDispatcher.MAX_CONCURRENCY
                        + ": " + concurrency);
            }
            this.s3EventConcurrency = concurrency;
            return this;
        }

        /** An extra {@code TIDEMARK_*} setting for the functions' configuration. */
        public Builder functionSetting(String name, String value) {
            if (!name.startsWith("TIDEMARK_")) {
                throw new IllegalArgumentException("function settings are TIDEMARK_* variables: " + name);
            }
            settings.put(name, Objects.requireNonNull(value, "value"));
            return this;
        }

        /** Sends ObjectCreated events of keys with this prefix and suffix (null: any) to {@code handler}. */
        public Builder onObjectCreated(String prefix, String suffix, RequestStreamHandler handler) {
            return onObjectCreated(defaultName(handler), prefix, suffix, HandlerFactory.of(handler));
        }

        /** As above; local-cloud builds the function from its configuration at start. */
        public Builder onObjectCreated(String prefix, String suffix, HandlerFactory factory) {
            return onObjectCreated(nextName(), prefix, suffix, factory);
        }

        /** As above, naming the function (logs, Lambda context, the event's configurationId). */
        public Builder onObjectCreated(String name, String prefix, String suffix, HandlerFactory factory) {
            subscriptions.add(new ObjectCreatedSubscription(checkName(name), prefix, suffix,
                    Objects.requireNonNull(factory, "factory")));
            return this;
        }

        /**
         * As {@link #onObjectCreated(String, String, String, HandlerFactory)}, and ObjectRemoved events
         * of those keys go to the same function.
         */
        public Builder onObjectCreatedAndRemoved(String name, String prefix, String suffix, HandlerFactory factory) {
            subscriptions.add(new ObjectCreatedSubscription(checkName(name), prefix, suffix,
                    Objects.requireNonNull(factory, "factory"), true));
            return this;
        }

        /** Routes {@code method} (or {@code ANY}) on an API Gateway resource path to {@code handler}. */
        public Builder route(String method, String resourcePath, RequestStreamHandler handler) {
            return route(defaultName(handler), method, resourcePath, HandlerFactory.of(handler));
        }

        public Builder route(String method, String resourcePath, HandlerFactory factory) {
            return route(nextName(), method, resourcePath, factory);
        }

        public Builder route(String name, String method, String resourcePath, HandlerFactory factory) {
            String m = Objects.requireNonNull(method, "method").toUpperCase(Locale.ROOT);
            if (!m.matches("ANY|GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS")) {
                throw new IllegalArgumentException("unsupported HTTP method " + method);
            }
            RouteTemplate template = RouteTemplate.parse(resourcePath);
            for (RouteSpec r : routes) {
                if (r.method().equals(m) && r.template().template().equals(template.template())) {
                    throw new IllegalArgumentException("route " + m + " " + resourcePath + " is registered twice");
                }
            }
            routes.add(new RouteSpec(checkName(name), m, template, Objects.requireNonNull(factory, "factory")));
            return this;
        }

        /**
         * A function that schedules may invoke, by {@code name} (the {@code function} of a schedule in
         * {@code DIR/schedules.json}); one instance serves every schedule that names it.
         */
        public Builder scheduledFunction(String name, HandlerFactory factory) {
            if (scheduledFunctions.putIfAbsent(checkName(name), Objects.requireNonNull(factory, "factory")) != null) {
                throw new IllegalArgumentException("scheduled function " + name + " is registered twice");
            }
            return this;
        }

        /** A schedule in addition to those of {@code DIR/schedules.json}. */
        public Builder schedule(LocalSchedule schedule) {
            schedules.add(Objects.requireNonNull(schedule, "schedule"));
            return this;
        }

        /**
         * Enforce IAM as the deployed stack would: every S3, DynamoDB and API call is authenticated
         * (a key local-cloud issued, unexpired, with its session token, a good signature) and judged
         * by {@code policy} as the key's principal from {@code identities}; refusals get AWS's
         * errors and are logged and kept ({@link LocalCloud#denials()}). Functions then get no static
         * keys but their role's session credentials from the credentials endpoint (see
         * {@link #functionRole}); the static key pair of {@code DIR/credentials.properties} becomes the
         * operator's (an IAM user's) key.
         */
        public Builder enforce(AccessPolicy policy, StackIdentities identities) {
            this.policy = Objects.requireNonNull(policy, "policy");
            this.identities = Objects.requireNonNull(identities, "identities");
            return this;
        }

        /**
         * The role a local function runs as under enforcement: the stack's function name (WalIndex,
         * CatalogApi, ...), or {@link LocalCloud#NO_ROLE} for a local stand-in that calls no AWS service.
         */
        public Builder functionRole(String localName, String stackFunctionName) {
            functionRoles.put(checkName(localName), Objects.requireNonNull(stackFunctionName, "stackFunctionName"));
            return this;
        }

        /**
         * How often each principal gets a new session key, and how long each key is valid (defaults
         * 45 and 60 minutes, like an instance profile's); tests use seconds. Lifetime must exceed rotation.
         */
        public Builder credentialRotation(Duration rotation, Duration lifetime) {
            if (Objects.requireNonNull(lifetime, "lifetime").compareTo(Objects.requireNonNull(rotation, "rotation")) <= 0
                    || rotation.isNegative() || rotation.isZero()) {
                throw new IllegalArgumentException("credential rotation must be positive and shorter than the lifetime: "
                        + rotation + ", " + lifetime);
            }
            this.rotation = rotation;
            this.lifetime = lifetime;
            return this;
        }

        /** Port of the credentials endpoint (with enforcement); 0 (the default) takes any free port. */
        public Builder credentialsPort(int port) {
            this.credentialsPort = checkPort(port);
            return this;
        }

        /** Judges in-process calls between functions once enforcement is known (LocalCloudFunctions). */
        Builder inProcessCallGate(InProcessCallGate gate) {
            callGates.add(Objects.requireNonNull(gate, "gate"));
            return this;
        }

        /** Adds background work shared by the functions ({@link BackgroundWork}); started before them. */
        public Builder background(BackgroundWork work) {
            background.add(Objects.requireNonNull(work, "work"));
            return this;
        }

        /**
         * With enforcement: tidemark.conf becomes the configuration of a node of {@code stanza}
         * ({@code stanza=} and {@code credentials.uri} of that stanza's node role).
         */
        /**
         * With enforcement: which API methods require a key and each key's throttle; the stack's
         * ({@link ApiKeyRules#ofStack()}) unless set (tests of the gate use small ones).
         */
        public Builder apiKeyRules(ApiKeyRules rules) {
            this.apiKeyRules = Objects.requireNonNull(rules, "rules");
            return this;
        }

        public Builder nodeStanza(String stanza) {
            this.nodeStanza = io.tidemark.events.layout.StanzaName.of(Objects.requireNonNull(stanza, "stanza")).value();
            return this;
        }

        /**
         * A second bucket on the S3 endpoint, outside the stack (no events, no bucket policy), that
         * only the operator's keys may use, for anything: for measuring another tool against the
         * same endpoint (bench/). Null (the default) for none.
         */
        public Builder comparisonBucket(String name) {
            if (name != null && !name.matches("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")) {
                throw new IllegalArgumentException("not an S3 bucket name: " + name);
            }
            this.comparisonBucket = name;
            return this;
        }

        /** Starts everything; on failure, stops what had started and throws {@link LocalCloudException}. */
        public LocalCloud start() {
            if (dir == null) {
                throw new IllegalStateException("LocalCloud.builder().dir(...) is required");
            }
            if (external != null && tls) {
                throw new IllegalStateException("TLS is for local-cloud's own S3; external storage brings its own endpoints");
            }
            if (external != null && policy != null) {
                // its S3 knows its own users and keys, not the session keys local-cloud issues
                throw new IllegalStateException("IAM enforcement judges local-cloud's own S3 and DynamoDB;"
                        + " external storage enforces its own users and policies");
            }
            LocalCloud cloud = new LocalCloud(this, dir.toAbsolutePath().normalize());
            try {
                cloud.start(this);
                return cloud;
            } catch (RuntimeException | Error e) {
                cloud.close();
                throw e;
            }
        }

        private String defaultName(RequestStreamHandler handler) {
            Class<?> c = Objects.requireNonNull(handler, "handler").getClass();
            String simple = c.getSimpleName();
            return c.isSynthetic() || c.isAnonymousClass() || simple.isEmpty() || !FUNCTION_NAME.matcher(simple).matches()
                    ? nextName() : simple;
        }

        private String nextName() {
            return "function-" + (++unnamed);
        }

        private static String checkName(String name) {
            if (name == null || !FUNCTION_NAME.matcher(name).matches()) {
                throw new IllegalArgumentException("function name must be 1-64 of A-Z, a-z, 0-9, '-', '_': " + name);
            }
            return name;
        }

        private static int checkPort(int port) {
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("port must be 0-65535: " + port);
            }
            return port;
        }
    }
}
