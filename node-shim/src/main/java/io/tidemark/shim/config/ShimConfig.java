package io.tidemark.shim.config;

import io.tidemark.events.layout.Compression;
import io.tidemark.events.layout.StanzaName;
import io.tidemark.shim.cli.CommandFailure;
import io.tidemark.shim.cli.ExitCodes;
import io.tidemark.shim.cli.UsageException;
import java.io.IOException;
import java.io.Reader;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;

/**
 * The node's configuration: a Java properties file (as {@code tidemark local-cloud} writes it)
 * plus the stanza from the command line.
 *
 * <pre>
 * s3.endpoint        S3 endpoint URL; default https://s3.&lt;region&gt;.amazonaws.com
 * s3.region          required
 * s3.bucket          required
 * s3.pathStyle       true|false (default false)
 * s3.accessKeyId     static credentials (both or neither); without them and without
 * s3.secretAccessKey credentials.uri: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, else the AWS SDK's
 *                    default chain (instance role, profile, container), re-resolved per request
 * s3.sessionToken    optional, with static credentials
 * credentials.uri    full http(s) URI of a container-credentials endpoint (session keys that
 *                    rotate; fetched again before they expire); excludes s3.accessKeyId
 * s3.caFile          PEM certificates to trust (only them) for an HTTPS endpoint with a private CA,
 *                    e.g. local-cloud --tls
 * api.url            the catalog API (API Gateway stage URL, or the local API)
 * api.region         region used to sign API calls; default s3.region
 * api.key            the stanza's API Gateway key, sent as x-api-key (the stack's output
 *                    ApiKeyId-&lt;stanza&gt; names it; its usage plan throttles this stanza's calls)
 * stanza             default stanza when --stanza is absent
 * compress-type      zst (default) | lz4 | none
 * compress-level     zst: 1..19 (default 1: on WAL as small as 3 and twice as fast); lz4: 1 fast (default), 2..17 high compression
 * spool.dir          where the stanza document is cached; default $TMPDIR/tidemark-&lt;user&gt;
 * retries            retries after a failed S3 or API request (default 3; 0..10)
 * plan.publicKey     the key restore plans must be signed with (PEM or base64 DER, P-256);
 *                    restore refuses to run without it
 * archive-get.prefetch        segments archive-get fetches ahead during recovery (default 8; 0 = off)
 * archive-get.spool-max-mb    bound of the prefetch spool in MB (default 256, or two segments
 *                             when they are larger than 128 MB)
 * archive-get.outage-wait     seconds archive-get keeps retrying a WAL file a restore plan needs
 *                             while S3 is unreachable, before it aborts recovery (default 600)
 * archive-get.prefetch-idle   seconds a prefetcher stays with nothing asked of it before it exits
 *                             (default 60)
 * archive-get.agent-prefetch  true|false (default true): {@code tidemark agent} runs the archive-get
 *                             prefetcher while PostgreSQL is in recovery (a standby)
 * archive-push.async          true|false (default true): a worker pushes ready WAL ahead of PostgreSQL,
 *                             which is answered from the spool; false: each call pushes its file itself
 * archive-push.process        parallel uploads of the async worker (default 2; 1..32)
 * archive-push.queue-max      bytes of unpushed WAL beyond which the worker DROPS the oldest
 *                             (unset: never drop); suffixes kB, MB, GB accepted
 * archive-push.timeout        seconds an async archive-push waits for its file (default 60)
 * s3.multipart-threshold      objects larger than this go to S3 in parts (default 256MB; from the part
 *                             size to 5GB: S3 takes at most 5 GB in one PUT); kB, MB, GB accepted
 * s3.multipart-part-size      the size of a part (default 64MB; 5MB to 5GB; grown for an object that
 *                             would need more than 10,000 parts)
 * s3.multipart-process        parts uploaded at a time per process (default 4; 1..32)
 * backup.lease-ttl            seconds the backup lease lives without a heartbeat (default 60; 10..43200);
 *                             renewed every quarter of it: a dead backup on another host blocks the
 *                             next one at most that long
 * </pre>
 * Unknown keys are refused so that a typo never silently changes behaviour; keys local-cloud
 * writes for other tools ({@code dynamodb.*}) are accepted and ignored.
 */
public record ShimConfig(
        Path file,
        StanzaName stanza,
        Optional<URI> s3Endpoint,
        String region,
        String bucket,
        boolean pathStyle,
        Optional<StaticKeys> keys,
        Optional<URI> credentialsUri,
        Optional<URI> apiUrl,
        String apiRegion,
        Compression compression,
        int compressLevel,
        Path spoolDir,
        int retries,
        Optional<String> planPublicKey,
        int prefetch,
        java.util.OptionalInt prefetchSpoolMaxMb,
        Optional<Path> s3CaFile,
        AsyncPush asyncPush,
        int outageWaitSeconds,
        int backupLeaseTtl,
        int prefetchIdleSeconds,
        Optional<String> apiKey,
        io.tidemark.shim.storage.Multipart multipart) {

    public static final int DEFAULT_BACKUP_LEASE_TTL = 60;
    public static final int DEFAULT_PREFETCH_SPOOL_MAX_MB = 256;
    public static final int DEFAULT_PREFETCH_IDLE = 60;
    /** true|false (default true): the agent runs the archive-get prefetcher while PostgreSQL is in recovery. */
    public static final String AGENT_PREFETCH = "archive-get.agent-prefetch";

    /**
     * The prefetch spool's bound in MB for segments of {@code size}: {@code archive-get.spool-max-mb}
     * when set; else 256, or room for two segments when they are larger than 128 MB. Under a fixed
     * 256 MB, 512 MB and 1 GB segments fitted none: a standby of such a cluster got no look-ahead
     * at all (issue 19 asks 1 MB to 1 GB to work the same). A bound the operator set is kept, even
     * one that holds no segment (prefetching off in effect).
     */
    public long prefetchSpoolMaxMb(io.tidemark.events.wal.WalSegmentSize size) {
        if (prefetchSpoolMaxMb.isPresent()) {
            return prefetchSpoolMaxMb.getAsInt();
        }
        return Math.max(DEFAULT_PREFETCH_SPOOL_MAX_MB, 2 * (size.bytes() >> 20));
    }

    /**
     * The asynchronous archive-push settings ({@code archive-push.*}).
     *
     * @param queueMax bytes of ready but unpushed WAL the worker may hold back; beyond it the
     *                 oldest segments are dropped (never archived). Empty: never drop.
     */
    public record AsyncPush(boolean enabled, int process, java.util.OptionalLong queueMax, int timeoutSeconds) {
        public static final AsyncPush OFF = new AsyncPush(false, 2, java.util.OptionalLong.empty(), 60);

        public AsyncPush {
            if (process < 1 || timeoutSeconds < 1 || (queueMax.isPresent() && queueMax.getAsLong() < 0)) {
                throw new IllegalArgumentException("invalid async archive-push settings");
            }
        }
    }

    /** Static access keys from the configuration file. */
    public record StaticKeys(String accessKeyId, String secretAccessKey, String sessionToken) {
        @Override
        public String toString() {
            return "StaticKeys[accessKeyId=" + accessKeyId + ", secretAccessKey=***]";
        }
    }

    private static final Set<String> KNOWN = Set.of("s3.endpoint", "s3.region", "s3.bucket", "s3.pathStyle",
            "s3.accessKeyId", "s3.secretAccessKey", "s3.sessionToken", "credentials.uri", "s3.client", "s3.caFile", "api.url", "api.region", "api.key",
            "stanza", "compress-type", "compress-level", "spool.dir", "retries",
            "dynamodb.endpoint", "dynamodb.table", "plan.publicKey", "archive-get.prefetch", "archive-get.spool-max-mb",
            "archive-get.outage-wait", "archive-get.prefetch-idle", AGENT_PREFETCH,
            "archive-push.async", "archive-push.process", "archive-push.queue-max", "archive-push.timeout",
            "backup.lease-ttl", "s3.multipart-threshold", "s3.multipart-part-size", "s3.multipart-process");

    /**
     * Loads the configuration named by {@code --config} or {@code TIDEMARK_CONFIG} and the
     * stanza from {@code --stanza} or the file.
     *
     * @throws UsageException  neither the option nor the variable names a file; no stanza anywhere
     * @throws CommandFailure  the file is missing, unreadable or invalid (exit 1)
     */
    public static ShimConfig load(CommonOptions a, Map<String, String> env) {
        String name = a.config().orElseGet(() -> {
            String e = env.get(CommonOptions.CONFIG_ENV);
            return e == null || e.isBlank() ? null : e;
        });
        if (name == null) {
            throw new UsageException("no configuration: give --config FILE or set " + CommonOptions.CONFIG_ENV);
        }
        Path file = Path.of(name);
        ShimConfig c = of(file, properties(file), a.stanza().orElse(null), env);
        if (c.keys().isPresent()) {
            requirePrivate(file);
        }
        return c;
    }

    /**
     * A file with static keys that group or others can read hands them to every local user (and
     * to whoever compromises one): refused, with the command that fixes it.
     */
    static void requirePrivate(Path file) {
        java.util.Set<java.nio.file.attribute.PosixFilePermission> perms;
        try {
            perms = Files.getPosixFilePermissions(file);
        } catch (IOException | UnsupportedOperationException e) {
            return; // not a POSIX file system: nothing to check
        }
        if (perms.stream().anyMatch(x -> x.name().startsWith("GROUP_") || x.name().startsWith("OTHERS_"))) {
            throw invalid(file, "holds static keys (s3.accessKeyId, s3.secretAccessKey) and group or others can access it ("
                    + java.nio.file.attribute.PosixFilePermissions.toString(perms) + "): run chmod 600 " + file
                    + " (owned by the user the shim runs as), or use credentials.uri or the instance's role instead");
        }
    }

    /** Builds from loaded properties; {@code stanzaOption} wins over the file's {@code stanza}. */
    public static ShimConfig of(Path file, Properties p, String stanzaOption, Map<String, String> env) {
        Set<String> unknown = new TreeSet<>(p.stringPropertyNames());
        unknown.removeAll(KNOWN);
        unknown.removeIf(io.tidemark.shim.drill.DrillSettings::isDrillKey);
        unknown.removeIf(io.tidemark.shim.stream.StreamSettings::isStreamKey);
        try {
            io.tidemark.shim.drill.DrillSettings.of(p); // the drill's keys, checked where they are defined
            io.tidemark.shim.stream.StreamSettings.of(p); // and the streaming keys
        } catch (IllegalArgumentException e) {
            throw invalid(file, e.getMessage());
        }
        bool(file, p, AGENT_PREFETCH, true); // read by the agent (agentPrefetch), refused here when not a boolean
        if (!unknown.isEmpty()) {
            throw invalid(file, "unknown key" + (unknown.size() > 1 ? "s " : " ") + String.join(", ", unknown));
        }
        String stanzaText = stanzaOption != null ? stanzaOption : value(p, "stanza");
        if (stanzaText == null) {
            throw new UsageException("no stanza: give --stanza NAME or set stanza= in " + file);
        }
        StanzaName stanza;
        try {
            stanza = StanzaName.of(stanzaText);
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        String region = required(file, p, "s3.region");
        String bucket = required(file, p, "s3.bucket");
        if (!bucket.matches("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]") || bucket.contains("..")) {
            throw invalid(file, "s3.bucket '" + bucket + "' is not a valid bucket name");
        }
        Optional<URI> endpoint = Optional.ofNullable(value(p, "s3.endpoint")).map(v -> url(file, "s3.endpoint", v));
        boolean pathStyle = bool(file, p, "s3.pathStyle", false);
        String id = value(p, "s3.accessKeyId");
        String secret = value(p, "s3.secretAccessKey");
        if ((id == null) != (secret == null)) {
            throw invalid(file, "s3.accessKeyId and s3.secretAccessKey go together: set both or neither");
        }
        Optional<StaticKeys> keys = id == null ? Optional.empty()
                : Optional.of(new StaticKeys(id, secret, value(p, "s3.sessionToken")));
        Optional<URI> credentialsUri = Optional.ofNullable(value(p, "credentials.uri"))
                .map(v -> url(file, "credentials.uri", v));
        if (credentialsUri.isPresent() && keys.isPresent()) {
            throw invalid(file, "credentials.uri and s3.accessKeyId exclude each other: keep one source of credentials");
        }
        if (value(p, "s3.client") != null) {
            // the built-in client is gone: say so rather than refuse the key as unknown
            throw invalid(file, "s3.client is no longer a setting (the AWS SDK's S3 client is the only one): remove it");
        }
        Optional<URI> api = Optional.ofNullable(value(p, "api.url")).map(v -> url(file, "api.url", v));
        String apiRegion = Optional.ofNullable(value(p, "api.region")).orElse(region);
        Compression compression = compression(file, Optional.ofNullable(value(p, "compress-type")).orElse("zst"));
        int level = compressLevel(file, compression, value(p, "compress-level"));
        Path spool = Optional.ofNullable(value(p, "spool.dir")).map(Path::of).orElseGet(ShimConfig::defaultSpoolDir);
        int retries = integer(file, "retries", Optional.ofNullable(value(p, "retries")).orElse("3"), 0, 10);
        Optional<Path> ca = Optional.ofNullable(value(p, "s3.caFile")).map(Path::of);
        if (ca.isPresent() && !java.nio.file.Files.isReadable(ca.get())) {
            throw invalid(file, "s3.caFile " + ca.get() + " is not a readable file");
        }
        Optional<String> planKey = Optional.ofNullable(value(p, "plan.publicKey"));
        int prefetch = integer(file, "archive-get.prefetch", Optional.ofNullable(value(p, "archive-get.prefetch")).orElse("8"), 0, 64);
        String spoolMaxSet = value(p, "archive-get.spool-max-mb");
        java.util.OptionalInt spoolMax = spoolMaxSet == null ? java.util.OptionalInt.empty()
                : java.util.OptionalInt.of(integer(file, "archive-get.spool-max-mb", spoolMaxSet, 1, 1 << 20));
        int outageWait = integer(file, "archive-get.outage-wait",
                Optional.ofNullable(value(p, "archive-get.outage-wait")).orElse("600"), 0, 7 * 24 * 3600);
        return new ShimConfig(file, stanza, endpoint, region, bucket, pathStyle, keys, credentialsUri, api, apiRegion,
                compression, level, spool, retries, planKey, prefetch, spoolMax, ca, asyncPush(file, p), outageWait,
                integer(file, "backup.lease-ttl", Optional.ofNullable(value(p, "backup.lease-ttl"))
                        .orElse(String.valueOf(DEFAULT_BACKUP_LEASE_TTL)), 10, 12 * 3600),
                integer(file, "archive-get.prefetch-idle", Optional.ofNullable(value(p, "archive-get.prefetch-idle"))
                        .orElse(String.valueOf(DEFAULT_PREFETCH_IDLE)), 1, 24 * 3600),
                Optional.ofNullable(value(p, "api.key")), multipart(file, p));
    }

    static io.tidemark.shim.storage.Multipart multipart(Path file, Properties p) {
        io.tidemark.shim.storage.Multipart d = io.tidemark.shim.storage.Multipart.DEFAULT;
        String t = value(p, "s3.multipart-threshold");
        String s = value(p, "s3.multipart-part-size");
        long partSize = s == null ? d.partSize() : bytes(file, "s3.multipart-part-size", s);
        // without a threshold of its own, a larger part size raises it: one part is one PUT
        long threshold = t == null ? Math.max(d.threshold(), partSize) : bytes(file, "s3.multipart-threshold", t);
        int process = integer(file, "s3.multipart-process",
                Optional.ofNullable(value(p, "s3.multipart-process")).orElse(String.valueOf(d.parallel())), 1, 32);
        try {
            return new io.tidemark.shim.storage.Multipart(threshold, partSize, process);
        } catch (IllegalArgumentException e) {
            throw invalid(file, "s3.multipart-threshold " + threshold + ", s3.multipart-part-size " + partSize + ": "
                    + e.getMessage());
        }
    }

    /** {@value #AGENT_PREFETCH} of a configuration file already loaded (so validated) by {@link #load}. */
    public static boolean agentPrefetch(Path file) {
        return bool(file, properties(file), AGENT_PREFETCH, true);
    }

    /**
     * The keys of a configuration file, as {@link #load} reads them; also for the settings read
     * again where they are used (drills, streaming, the hosted prefetcher).
     */
    public static Properties properties(Path file) {
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            p.load(r);
        } catch (NoSuchFileException e) {
            throw invalid(file, "no such file");
        } catch (IOException | IllegalArgumentException e) {
            // IllegalArgumentException: a malformed unicode escape in the file
            throw invalid(file, "cannot read it: " + e.getMessage());
        }
        return p;
    }

    static AsyncPush asyncPush(Path file, Properties p) {
        boolean on = bool(file, p, "archive-push.async", true);
        int process = integer(file, "archive-push.process",
                Optional.ofNullable(value(p, "archive-push.process")).orElse("2"), 1, 32);
        String q = value(p, "archive-push.queue-max");
        java.util.OptionalLong queueMax = q == null ? java.util.OptionalLong.empty()
                : java.util.OptionalLong.of(bytes(file, "archive-push.queue-max", q));
        int timeout = integer(file, "archive-push.timeout",
                Optional.ofNullable(value(p, "archive-push.timeout")).orElse("60"), 1, 3600);
        return new AsyncPush(on, process, queueMax, timeout);
    }

    /** A byte count: digits with an optional kB, MB or GB (powers of 1024), as PostgreSQL writes sizes. */
    static long bytes(Path file, String key, String v) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\d{1,15})\\s*(|B|kB|KB|MB|GB)").matcher(v);
        if (!m.matches()) {
            throw invalid(file, key + " must be a byte count such as 1073741824, 512MB or 1GB, got '" + v + "'");
        }
        long n = Long.parseLong(m.group(1));
        int shift = switch (m.group(2)) {
            case "kB", "KB" -> 10;
            case "MB" -> 20;
            case "GB" -> 30;
            default -> 0;
        };
        if (n > (Long.MAX_VALUE >> shift)) {
            throw invalid(file, key + " is too large: '" + v + "'");
        }
        return n << shift;
    }

    /** The spool when {@code spool.dir} is not set: {@code $TMPDIR/tidemark-<user>}. */
    public static Path defaultSpoolDir() {
        return Path.of(System.getProperty("java.io.tmpdir"), "tidemark-" + System.getProperty("user.name"));
    }

    /** The API URL, or a failure naming the missing key. */
    public URI requireApiUrl() {
        return apiUrl.orElseThrow(() -> invalid(file, "api.url is not set"));
    }

    /** The S3 endpoint: the configured one, else AWS's regional endpoint. */
    public URI effectiveS3Endpoint() {
        return s3Endpoint.orElseGet(() -> URI.create("https://s3." + region + ".amazonaws.com"));
    }

    static Compression compression(Path file, String v) {
        return switch (v) {
            case "zst", "zstd" -> Compression.ZSTD;
            case "lz4" -> Compression.LZ4;
            case "none", "raw" -> Compression.NONE;
            default -> throw invalid(file, "compress-type must be zst, lz4 or none, got '" + v + "'");
        };
    }

    static int compressLevel(Path file, Compression c, String v) {
        return switch (c) {
            case ZSTD -> v == null ? 1 : integer(file, "compress-level", v, 1, 19);
            case LZ4 -> v == null ? 1 : integer(file, "compress-level", v, 1, 17);
            case NONE -> v == null ? 0 : integer(file, "compress-level", v, 0, 0);
        };
    }

    private static String value(Properties p, String key) {
        String v = p.getProperty(key);
        return v == null || v.isBlank() ? null : v.strip();
    }

    private static String required(Path file, Properties p, String key) {
        String v = value(p, key);
        if (v == null) {
            throw invalid(file, key + " is not set");
        }
        return v;
    }

    private static boolean bool(Path file, Properties p, String key, boolean dflt) {
        String v = value(p, key);
        if (v == null) {
            return dflt;
        }
        return switch (v) {
            case "true" -> true;
            case "false" -> false;
            default -> throw invalid(file, key + " must be true or false, got '" + v + "'");
        };
    }

    private static int integer(Path file, String key, String v, int min, int max) {
        try {
            int n = Integer.parseInt(v);
            if (n >= min && n <= max) {
                return n;
            }
        } catch (NumberFormatException e) {
            // below
        }
        throw invalid(file, key + " must be " + (min == max ? String.valueOf(min) : "an integer from " + min + " to " + max)
                + ", got '" + v + "'");
    }

    private static URI url(Path file, String key, String v) {
        try {
            URI u = new URI(v);
            if (u.getHost() == null || u.getScheme() == null || !(u.getScheme().equals("http") || u.getScheme().equals("https"))
                    || u.getRawQuery() != null || u.getRawFragment() != null) {
                throw invalid(file, key + " must be an http(s) URL without query, got '" + v + "'");
            }
            return u;
        } catch (URISyntaxException e) {
            throw invalid(file, key + " is not a URL: '" + v + "'");
        }
    }

    static CommandFailure invalid(Path file, String problem) {
        return new CommandFailure(ExitCodes.FAILED, "configuration " + file + ": " + problem);
    }
}
