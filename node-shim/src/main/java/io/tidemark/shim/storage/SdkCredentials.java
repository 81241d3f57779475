package io.tidemark.shim.storage;

import java.util.Optional;
import software.amazon.awssdk.auth.credentials.AwsSessionCredentials;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.identity.spi.AwsCredentialsIdentity;

/** The AWS SDK's default credentials chain; its own class so the SDK loads only when it is needed. */
final class SdkCredentials {
    private SdkCredentials() {
    }

    static Optional<AwsCredentials> defaultChain() {
        try (DefaultCredentialsProvider p = DefaultCredentialsProvider.builder().build()) {
            AwsCredentialsIdentity c = p.resolveCredentials();
            String token = c instanceof AwsSessionCredentials s ? s.sessionToken() : null;
            return Optional.of(new AwsCredentials(c.accessKeyId(), c.secretAccessKey(), token));
        } catch (RuntimeException e) {
            throw new IllegalStateException("the AWS default credentials chain found none: " + e.getMessage(), e);
        }
    }
}
