package io.tidemark.shim.storage;

import io.tidemark.shim.config.ShimConfig;

/** Builds the node's {@link ObjectStore}: the AWS SDK's S3 client ({@link SdkObjectStore}). */
public final class Stores {
    private Stores() {
    }

    /** One per process and command: the store holds the connection pool; close it when done. */
    public static ObjectStore open(ShimConfig config, CredentialSource credentials) {
        return new SdkObjectStore(config.s3Endpoint(), config.bucket(), config.pathStyle(), config.region(),
                credentials, config.retries(), config.s3CaFile(), config.multipart());
    }
}
