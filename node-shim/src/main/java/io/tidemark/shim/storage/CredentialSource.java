package io.tidemark.shim.storage;

import io.tidemark.events.credentials.CredentialsEndpoint;
import io.tidemark.events.credentials.CredentialsUnavailable;
import io.tidemark.events.credentials.SessionKeys;
import io.tidemark.shim.config.ShimConfig;
import java.net.URI;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Where request signatures get their keys, asked again for every request ({@link #current()}):
 * nothing in the shim keeps a key beyond one request, so a process that runs for months (the
 * agent, its archive worker, a long backup, a restore) signs with whatever the source hands out
 * now. The source, in this order:
 * <ol>
 *   <li>the configuration's static keys ({@code s3.accessKeyId}, ...): fixed;</li>
 *   <li>{@code credentials.uri}: a container-credentials endpoint, read through one
 *       {@link CredentialsEndpoint} per URI and process, which fetches new session keys before the
 *       cached ones expire;</li>
 *   <li>{@code AWS_ACCESS_KEY_ID} / {@code AWS_SECRET_ACCESS_KEY} (/ {@code AWS_SESSION_TOKEN}):
 *       fixed, because a process's environment cannot change after it started; whoever hands a
 *       process session keys this way must restart it before they expire (or use one of the
 *       refreshing sources);</li>
 *   <li>the AWS SDK's default chain (profile, web identity, container, instance role): one
 *       provider per process, kept open; it caches and refreshes by itself.</li>
 * </ol>
 * The first two need no AWS SDK class, which keeps {@code archive-push} fast (docs/startup.md).
 */
public final class CredentialSource {
    private static final Map<URI, CredentialsEndpoint> ENDPOINTS = new ConcurrentHashMap<>();

    /** The kinds of source; closed. */
    sealed interface Origin permits Fixed, Endpoint, SdkChain {
        String describe();
    }

    /** Keys that never change (configuration or environment). */
    record Fixed(AwsCredentials keys, String describe) implements Origin {
    }

    /** A credentials endpoint ({@code credentials.uri}). */
    record Endpoint(CredentialsEndpoint endpoint) implements Origin {
        @Override
        public String describe() {
            return "the credentials endpoint " + endpoint.uri();
        }
    }

    /** The SDK's default chain, behind {@link SdkCredentials} so the SDK loads only here. */
    record SdkChain() implements Origin {
        @Override
        public String describe() {
            return "the AWS default credentials chain";
        }
    }

    private final Origin origin;

    private CredentialSource(Origin origin) {
        this.origin = origin;
    }

    public static CredentialSource of(ShimConfig config, Map<String, String> env) {
        if (config.keys().isPresent()) {
            ShimConfig.StaticKeys k = config.keys().get();
            return new CredentialSource(new Fixed(new AwsCredentials(k.accessKeyId(), k.secretAccessKey(), k.sessionToken()),
                    "the static keys of " + config.file()));
        }
        if (config.credentialsUri().isPresent()) {
            return endpoint(config.credentialsUri().get());
        }
        String id = env.get("AWS_ACCESS_KEY_ID");
        String secret = env.get("AWS_SECRET_ACCESS_KEY");
        if (id != null && !id.isBlank() && secret != null && !secret.isBlank()) {
            String token = env.get("AWS_SESSION_TOKEN");
            return new CredentialSource(new Fixed(new AwsCredentials(id, secret, token == null || token.isBlank() ? null : token),
                    "AWS_ACCESS_KEY_ID in the environment"));
        }
        return new CredentialSource(new SdkChain());
    }

    /** The process's one reader of {@code uri}: every source naming it shares its cache. */
    public static CredentialSource endpoint(URI uri) {
        return new CredentialSource(new Endpoint(ENDPOINTS.computeIfAbsent(uri, CredentialsEndpoint::new)));
    }

    public static CredentialSource fixed(AwsCredentials credentials) {
        return new CredentialSource(new Fixed(credentials, "fixed keys"));
    }

    Origin origin() {
        return origin;
    }

    /** Where the keys come from, for messages. */
    public String describe() {
        return origin.describe();
    }

    /**
     * The keys to sign one request with.
     *
     * @throws StorageException none available now: retryable when the source may answer on the
     *                          next try (an endpoint that is down, a chain that worked before)
     */
    public AwsCredentials current() {
        // instanceof, not a pattern switch: its bootstrap would cost a cold archive-push JVM time
        if (origin instanceof Fixed f) {
            return f.keys();
        }
        if (origin instanceof Endpoint e) {
            try {
                SessionKeys k = e.endpoint().current();
                return new AwsCredentials(k.accessKeyId(), k.secretAccessKey(), k.sessionToken());
            } catch (CredentialsUnavailable u) {
                throw new StorageException("no AWS credentials: " + u.getMessage(), u, true);
            }
        }
        try {
            return SdkCredentials.resolve();
        } catch (RuntimeException x) {
            // Never worked in this process: nothing is configured, and waiting will not help.
            throw new StorageException("no AWS credentials: set s3.accessKeyId and s3.secretAccessKey or"
                    + " credentials.uri in the configuration, or run with an instance role (" + x.getMessage() + ")",
                    x, SdkCredentials.worked());
        }
    }

    /**
     * The keys for an API call, or empty when the default chain has never found any in this
     * process (a local API that takes unsigned calls); failures of a source that worked or was
     * configured throw as {@link #current()} does.
     */
    public Optional<AwsCredentials> forApi() {
        try {
            return Optional.of(current());
        } catch (StorageException e) {
            if (origin instanceof SdkChain && !e.retryable()) {
                return Optional.empty();
            }
            throw e;
        }
    }

    /**
     * A service refused {@code keys} as expired ({@code ExpiredToken}): an endpoint fetches anew
     * on the next request. The SDK's chain renews on its own schedule; fixed keys stay what they are.
     */
    public void refused(AwsCredentials keys) {
        if (origin instanceof Endpoint e) {
            e.endpoint().refused(new SessionKeys(keys.accessKeyId(), keys.secretAccessKey(), keys.sessionToken(), null));
        }
    }

    /** Whether the keys can change while the process runs (endpoint or SDK chain). */
    public boolean refreshing() {
        return !(origin instanceof Fixed);
    }
}
