package io.tidemark.functions.runtime;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * The settings every Tidemark function reads at cold start, from {@code TIDEMARK_*} variables.
 *
 * <p>In AWS Lambda use {@link #fromEnvironment()}; local-cloud and tests build the same map and
 * call {@link #of(Map)}. Every AWS client takes its endpoint from here, so S3Proxy, DynamoDB
 * Local and AWS are the same code path.
 *
 * <table>
 * <caption>Variables</caption>
 * <tr><th>name</th><th>required</th><th>meaning</th></tr>
 * <tr><td>{@value #BUCKET}</td><td>yes</td><td>the archive bucket</td></tr>
 * <tr><td>{@value #TABLE}</td><td>yes</td><td>the catalog table</td></tr>
 * <tr><td>{@value #REGION}</td><td>no, falls back to {@value #AWS_REGION} (set by Lambda)</td>
 *     <td>region of the bucket and the table</td></tr>
 * <tr><td>{@value #S3_ENDPOINT}</td><td>no</td><td>S3 endpoint override (http or https URI)</td></tr>
 * <tr><td>{@value #DYNAMODB_ENDPOINT}</td><td>no</td><td>DynamoDB endpoint override</td></tr>
 * <tr><td>{@value #S3_PATH_STYLE}</td><td>no (false)</td><td>path-style S3 addressing</td></tr>
 * <tr><td>{@value #ACCESS_KEY_ID}, {@value #SECRET_ACCESS_KEY}</td><td>no, both or neither</td>
 *     <td>static credentials (local-cloud without rotation); absent means the default AWS chain</td></tr>
 * <tr><td>{@value #CREDENTIALS_URI}</td><td>no; excludes the static credentials</td>
 *     <td>full http(s) URI of a container-credentials endpoint ({@code {"AccessKeyId",
 *     "SecretAccessKey", "Token", "Expiration"}}): the function's role credentials, renewed before
 *     they expire (local-cloud's per-function endpoint). Absent: the default AWS chain, which in
 *     Lambda reads the role's session keys from the environment (or the container endpoint under
 *     SnapStart)</td></tr>
 * </table>
 *
 * <p>Further {@code TIDEMARK_*} settings (signing key, retention defaults, ...) are kept as they
 * are and read with {@link #setting(String)}.
 */
public final class FunctionConfig {

    public static final String BUCKET = "TIDEMARK_BUCKET";
    public static final String TABLE = "TIDEMARK_TABLE";
    public static final String REGION = "TIDEMARK_REGION";
    public static final String AWS_REGION = "AWS_REGION";
    public static final String S3_ENDPOINT = "TIDEMARK_S3_ENDPOINT";
    public static final String DYNAMODB_ENDPOINT = "TIDEMARK_DYNAMODB_ENDPOINT";
    public static final String S3_PATH_STYLE = "TIDEMARK_S3_PATH_STYLE";
    /** A PEM file of the only certificates to trust for an HTTPS S3 endpoint (local-cloud with TLS). */
    public static final String S3_CA_FILE = "TIDEMARK_S3_CA_FILE";
    public static final String ACCESS_KEY_ID = "TIDEMARK_ACCESS_KEY_ID";
    public static final String SECRET_ACCESS_KEY = "TIDEMARK_SECRET_ACCESS_KEY";
    /** A container-credentials endpoint (full URI) the function's credentials come from. */
    public static final String CREDENTIALS_URI = "TIDEMARK_CREDENTIALS_URI";
    /** KMS endpoint override (tests, LocalStack); the planner signs with KMS only in AWS. */
    public static final String KMS_ENDPOINT = "TIDEMARK_KMS_ENDPOINT";
    /** SQS endpoint override (tests, LocalStack); the backup scheduler delivers jobs with SQS only in AWS. */
    public static final String SQS_ENDPOINT = "TIDEMARK_SQS_ENDPOINT";
    /** The backup scheduler's job queues: JSON {@code {"<stanza>": "<queue url>", ...}} (the CDK stack sets it). */
    public static final String JOB_QUEUES = "TIDEMARK_JOB_QUEUES";

    private static final String PREFIX = "TIDEMARK_";
    // S3 general purpose bucket names: 3-63 of [a-z0-9.-], starting and ending alphanumeric.
    private static final Pattern BUCKET_NAME = Pattern.compile("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]");
    private static final Pattern TABLE_NAME = Pattern.compile("[A-Za-z0-9_.-]{3,255}");
    private static final Pattern REGION_NAME = Pattern.compile("[a-z]{2}(-[a-z0-9]+)+-[0-9]+");

    /** Static credentials, used by local-cloud; {@link #toString()} hides the secret. */
    public record StaticCredentials(String accessKeyId, String secretAccessKey) {
        public StaticCredentials {
            Objects.requireNonNull(accessKeyId, "accessKeyId");
            Objects.requireNonNull(secretAccessKey, "secretAccessKey");
        }

        @Override
        public String toString() {
            return "StaticCredentials[accessKeyId=" + accessKeyId + ", secretAccessKey=***]";
        }
    }

    private final String bucket;
    private final String table;
    private final String region;
    private final URI s3Endpoint;
    private final URI dynamoDbEndpoint;
    private final boolean s3PathStyle;
    private final StaticCredentials credentials;
    private final Map<String, String> settings;

    private FunctionConfig(String bucket, String table, String region, URI s3Endpoint, URI dynamoDbEndpoint,
            boolean s3PathStyle, StaticCredentials credentials, Map<String, String> settings) {
        this.bucket = bucket;
        this.table = table;
        this.region = region;
        this.s3Endpoint = s3Endpoint;
        this.dynamoDbEndpoint = dynamoDbEndpoint;
        this.s3PathStyle = s3PathStyle;
        this.credentials = credentials;
        this.settings = settings;
    }

    /** Reads the process environment (in Lambda). */
    public static FunctionConfig fromEnvironment() {
        return of(System.getenv());
    }

    /**
     * Reads and validates the settings in {@code env}. Blank values count as absent.
     *
     * @throws IllegalArgumentException naming every missing or malformed setting
     */
    public static FunctionConfig of(Map<String, String> env) {
        Objects.requireNonNull(env, "env");
        List<String> problems = new ArrayList<>();

        String bucket = value(env, BUCKET);
        if (bucket == null) {
            problems.add(BUCKET + " is required (the archive bucket name)");
        } else if (!BUCKET_NAME.matcher(bucket).matches() || bucket.contains("..")) {
            problems.add(BUCKET + "='" + bucket
                    + "' is not a valid bucket name (3-63 characters of a-z, 0-9, '.', '-')");
        }

        String table = value(env, TABLE);
        if (table == null) {
            problems.add(TABLE + " is required (the catalog table name)");
        } else if (!TABLE_NAME.matcher(table).matches()) {
            problems.add(TABLE + "='" + table
                    + "' is not a valid table name (3-255 characters of A-Z, a-z, 0-9, '_', '.', '-')");
        }

        String region = value(env, REGION);
        String regionSource = REGION;
        if (region == null) {
            region = value(env, AWS_REGION);
            regionSource = AWS_REGION;
        }
        if (region == null) {
            problems.add(REGION + " (or " + AWS_REGION + ") is required");
        } else if (!REGION_NAME.matcher(region).matches()) {
            problems.add(regionSource + "='" + region + "' is not a region name such as us-east-1");
        }

        URI s3Endpoint = endpoint(env, S3_ENDPOINT, problems);
        URI dynamoDbEndpoint = endpoint(env, DYNAMODB_ENDPOINT, problems);

        boolean pathStyle = false;
        String pathStyleText = value(env, S3_PATH_STYLE);
        if (pathStyleText != null) {
            switch (pathStyleText.toLowerCase(Locale.ROOT)) {
                case "true" -> pathStyle = true;
                case "false" -> pathStyle = false;
                default -> problems.add(S3_PATH_STYLE + "='" + pathStyleText + "' must be true or false");
            }
        }

        String keyId = value(env, ACCESS_KEY_ID);
        String secret = value(env, SECRET_ACCESS_KEY);
        StaticCredentials credentials = null;
        if (keyId != null && secret != null) {
            credentials = new StaticCredentials(keyId, secret);
        } else if (keyId != null || secret != null) {
            problems.add(ACCESS_KEY_ID + " and " + SECRET_ACCESS_KEY + " must be set together (or neither)");
        }

        URI credentialsUri = endpoint(env, CREDENTIALS_URI, problems);
        if (credentialsUri != null && credentials != null) {
            problems.add(CREDENTIALS_URI + " and " + ACCESS_KEY_ID + " exclude each other: keep one source of credentials");
        }

        if (!problems.isEmpty()) {
            throw new IllegalArgumentException(
                    "invalid Tidemark function configuration: " + String.join("; ", problems));
        }

        Map<String, String> settings = new TreeMap<>();
        env.forEach((k, v) -> {
            if (k != null && k.startsWith(PREFIX) && v != null && !v.isBlank()) {
                settings.put(k, v.strip());
            }
        });
        return new FunctionConfig(bucket, table, region, s3Endpoint, dynamoDbEndpoint, pathStyle, credentials,
                Collections.unmodifiableMap(settings));
    }

    private static String value(Map<String, String> env, String name) {
        String v = env.get(name);
        return v == null || v.isBlank() ? null : v.strip();
    }

    private static URI endpoint(Map<String, String> env, String name, List<String> problems) {
        String text = value(env, name);
        if (text == null) {
            return null;
        }
        try {
            URI uri = new URI(text);
            String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
            if (!(scheme.equals("http") || scheme.equals("https")) || uri.getHost() == null) {
                problems.add(name + "='" + text + "' must be an absolute http(s) URI such as http://127.0.0.1:9850");
                return null;
            }
            if (uri.getRawQuery() != null || uri.getRawFragment() != null) {
                problems.add(name + "='" + text + "' must not have a query or fragment");
                return null;
            }
            return uri;
        } catch (URISyntaxException e) {
            problems.add(name + "='" + text + "' is not a URI: " + e.getReason());
            return null;
        }
    }

    public String bucket() {
        return bucket;
    }

    public String table() {
        return table;
    }

    public String region() {
        return region;
    }

    public Optional<URI> s3Endpoint() {
        return Optional.ofNullable(s3Endpoint);
    }

    public Optional<URI> dynamoDbEndpoint() {
        return Optional.ofNullable(dynamoDbEndpoint);
    }

    public boolean s3PathStyle() {
        return s3PathStyle;
    }

    /** The credentials endpoint when {@value #CREDENTIALS_URI} is set. */
    public Optional<URI> credentialsUri() {
        return setting(CREDENTIALS_URI).map(URI::create);
    }

    /** Static credentials when configured (local-cloud); empty means the endpoint or the default AWS chain. */
    public Optional<StaticCredentials> credentials() {
        return Optional.ofNullable(credentials);
    }

    /** Any {@code TIDEMARK_*} setting, as given (stripped). */
    public Optional<String> setting(String name) {
        return Optional.ofNullable(settings.get(name));
    }

    /**
     * The settings as environment variables: what a function given this configuration would see.
     * {@code of(config.toEnvironment())} equals {@code config}.
     */
    public Map<String, String> toEnvironment() {
        Map<String, String> env = new TreeMap<>(settings);
        env.put(BUCKET, bucket);
        env.put(TABLE, table);
        env.put(REGION, region);
        env.put(S3_PATH_STYLE, Boolean.toString(s3PathStyle));
        if (s3Endpoint != null) {
            env.put(S3_ENDPOINT, s3Endpoint.toString());
        }
        if (dynamoDbEndpoint != null) {
            env.put(DYNAMODB_ENDPOINT, dynamoDbEndpoint.toString());
        }
        if (credentials != null) {
            env.put(ACCESS_KEY_ID, credentials.accessKeyId());
            env.put(SECRET_ACCESS_KEY, credentials.secretAccessKey());
        }
        return Collections.unmodifiableMap(env);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof FunctionConfig other && toEnvironment().equals(other.toEnvironment());
    }

    @Override
    public int hashCode() {
        return toEnvironment().hashCode();
    }

    @Override
    public String toString() {
        return "FunctionConfig[bucket=" + bucket + ", table=" + table + ", region=" + region
                + ", s3Endpoint=" + s3Endpoint + ", dynamoDbEndpoint=" + dynamoDbEndpoint
                + ", s3PathStyle=" + s3PathStyle + ", credentials=" + (credentials != null ? credentials
                : credentialsUri().map(u -> "endpoint " + u).orElse("default chain"))
                + "]";
    }
}
