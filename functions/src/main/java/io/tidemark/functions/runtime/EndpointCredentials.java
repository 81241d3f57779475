package io.tidemark.functions.runtime;

import io.tidemark.events.credentials.CredentialsEndpoint;
import io.tidemark.events.credentials.CredentialsUnavailable;
import io.tidemark.events.credentials.SessionKeys;
import java.net.URI;
import software.amazon.awssdk.auth.credentials.AwsCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.AwsSessionCredentials;
import software.amazon.awssdk.core.exception.SdkClientException;

/**
 * The credentials of {@value FunctionConfig#CREDENTIALS_URI}: a container-credentials endpoint
 * read through {@link CredentialsEndpoint} (shared with the node shim), which renews the session
 * keys before they expire. Not the SDK's {@code ContainerCredentialsProvider}: that one takes its
 * URI only from a process-wide environment variable, and local-cloud runs every function, each
 * with its own role, in one process.
 */
final class EndpointCredentials implements AwsCredentialsProvider {
    private final CredentialsEndpoint endpoint;

    EndpointCredentials(URI uri) {
        this.endpoint = new CredentialsEndpoint(uri);
    }

    @Override
    public AwsCredentials resolveCredentials() {
        SessionKeys k;
        try {
            k = endpoint.current();
        } catch (CredentialsUnavailable e) {
            // what the SDK's own providers throw: the client reports it as that request's failure
            throw SdkClientException.builder().message(e.getMessage()).cause(e).build();
        }
        AwsSessionCredentials.Builder b = AwsSessionCredentials.builder().accessKeyId(k.accessKeyId())
                .secretAccessKey(k.secretAccessKey()).expirationTime(k.expiration());
        if (k.sessionToken() == null) {
            return software.amazon.awssdk.auth.credentials.AwsBasicCredentials.create(k.accessKeyId(), k.secretAccessKey());
        }
        return b.sessionToken(k.sessionToken()).build();
    }

    CredentialsEndpoint endpoint() {
        return endpoint;
    }

    @Override
    public String toString() {
        return "EndpointCredentials[" + endpoint.uri() + "]";
    }
}
