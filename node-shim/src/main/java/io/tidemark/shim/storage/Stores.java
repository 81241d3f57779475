package io.tidemark.shim.storage;

import io.tidemark.shim.config.ShimConfig;

/** Builds the configured {@link ObjectStore}. */
public final class Stores {
    private Stores() {
    }

    public static ObjectStore open(ShimConfig config, CredentialSource credentials) {
        if (config.s3Client().equals("sdk")) {
            return new SdkObjectStore(config.s3Endpoint(), config.bucket(), config.pathStyle(), config.region(),
                    credentials, config.retries(), config.s3CaFile());
        }
        return new RetryingObjectStore(new HttpObjectStore(config.effectiveS3Endpoint(), config.bucket(),
                config.pathStyle(), config.region(), credentials, config.s3CaFile()), Retry.of(config.retries()));
    }
}
