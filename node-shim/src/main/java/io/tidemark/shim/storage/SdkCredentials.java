package io.tidemark.shim.storage;

import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.AwsSessionCredentials;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.identity.spi.AwsCredentialsIdentity;

/**
 * The AWS SDK's side of {@link CredentialSource}; its own class so the SDK loads only when it is
 * needed. The default chain is one provider for the whole process, built on first use and never
 * closed: it caches what it resolved and refreshes session credentials before they expire (an
 * instance role's every few hours), which a closed-and-rebuilt provider per use would not.
 */
public final class SdkCredentials {
    private static volatile boolean worked;

    private SdkCredentials() {
    }

    private static final class Chain {
        static final DefaultCredentialsProvider PROVIDER = DefaultCredentialsProvider.builder().build();
    }

    /** The chain's current keys. */
    static AwsCredentials resolve() {
        try {
            AwsCredentialsIdentity c = Chain.PROVIDER.resolveCredentials();
            worked = true;
            return new AwsCredentials(c.accessKeyId(), c.secretAccessKey(),
                    c instanceof AwsSessionCredentials s ? s.sessionToken() : null);
        } catch (RuntimeException e) {
            throw new IllegalStateException("the AWS default credentials chain found none: " + e.getMessage(), e);
        }
    }

    /** Whether the chain has resolved credentials in this process. */
    static boolean worked() {
        return worked;
    }

    /**
     * A provider for an SDK client (S3, SQS) that asks {@code source} on every request: the
     * chain's own provider when that is the source, else an adapter.
     */
    public static AwsCredentialsProvider provider(CredentialSource source) {
        if (source.origin() instanceof CredentialSource.SdkChain) {
            return Chain.PROVIDER;
        }
        return tracked(source);
    }

    /**
     * An adapter that remembers the keys it handed out last, so that a request S3 refused with
     * {@code ExpiredToken} can tell the source which keys to drop before the retry signs again.
     */
    static Tracked tracked(CredentialSource source) {
        return new Tracked(source);
    }

    /** See {@link #tracked}. */
    static final class Tracked implements AwsCredentialsProvider {
        private final CredentialSource source;
        private volatile AwsCredentials last;

        private Tracked(CredentialSource source) {
            this.source = source;
        }

        @Override
        public software.amazon.awssdk.auth.credentials.AwsCredentials resolveCredentials() {
            if (source.origin() instanceof CredentialSource.SdkChain) {
                return Chain.PROVIDER.resolveCredentials();
            }
            AwsCredentials c;
            try {
                c = source.current();
            } catch (StorageException e) {
                throw SdkClientException.builder().message(e.getMessage()).cause(e).build();
            }
            last = c;
            return c.sessionToken() == null ? AwsBasicCredentials.create(c.accessKeyId(), c.secretAccessKey())
                    : AwsSessionCredentials.create(c.accessKeyId(), c.secretAccessKey(), c.sessionToken());
        }

        /** The keys handed out last were refused as expired. */
        void refusedLast() {
            AwsCredentials c = last;
            if (c != null) {
                source.refused(c);
            }
        }

        /** For messages: the access key id handed out last. */
        String lastKeyId() {
            AwsCredentials c = last;
            return c == null ? "(none)" : c.accessKeyId();
        }
    }
}
