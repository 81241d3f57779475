package io.tidemark.shim.storage;

import io.tidemark.shim.config.ShimConfig;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Where request signatures get their keys: the configuration's static keys when present (no
 * AWS SDK class is loaded then), else the environment's AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY
 * / AWS_SESSION_TOKEN, else the AWS SDK's default chain (profile, web identity, container,
 * instance role), loaded only at that point. Resolved once, on first use.
 */
public final class CredentialSource {
    private final Supplier<Optional<AwsCredentials>> resolver;
    private Optional<AwsCredentials> resolved;
    private RuntimeException failure;

    private CredentialSource(Supplier<Optional<AwsCredentials>> resolver) {
        this.resolver = resolver;
    }

    public static CredentialSource of(ShimConfig config, Map<String, String> env) {
        return new CredentialSource(() -> {
            if (config.keys().isPresent()) {
                ShimConfig.StaticKeys k = config.keys().get();
                return Optional.of(new AwsCredentials(k.accessKeyId(), k.secretAccessKey(), k.sessionToken()));
            }
            String id = env.get("AWS_ACCESS_KEY_ID");
            String secret = env.get("AWS_SECRET_ACCESS_KEY");
            if (id != null && !id.isBlank() && secret != null && !secret.isBlank()) {
                String token = env.get("AWS_SESSION_TOKEN");
                return Optional.of(new AwsCredentials(id, secret, token == null || token.isBlank() ? null : token));
            }
            return SdkCredentials.defaultChain();
        });
    }

    public static CredentialSource fixed(AwsCredentials credentials) {
        return new CredentialSource(() -> Optional.of(credentials));
    }

    /** The credentials, or empty when none can be found (the reason is in {@link #failureReason()}). */
    public synchronized Optional<AwsCredentials> get() {
        if (resolved == null && failure == null) {
            try {
                resolved = resolver.get();
            } catch (RuntimeException e) {
                failure = e;
            }
        }
        return resolved == null ? Optional.empty() : resolved;
    }

    /** The credentials, or a {@link StorageException} saying that none were found. */
    public AwsCredentials require() {
        return get().orElseThrow(() -> new StorageException("no AWS credentials: set s3.accessKeyId and"
                + " s3.secretAccessKey in the configuration, or run with an instance role"
                + (failure == null ? "" : " (" + failure.getMessage() + ")"), null, false));
    }

    String failureReason() {
        return failure == null ? null : failure.getMessage();
    }
}
