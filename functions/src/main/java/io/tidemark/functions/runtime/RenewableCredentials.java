package io.tidemark.functions.runtime;

import java.util.Objects;
import java.util.function.Supplier;
import software.amazon.awssdk.auth.credentials.AwsCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;

/**
 * The credentials provider every client of a function holds: it delegates to a provider that
 * {@link #renew()} replaces with a freshly built one.
 *
 * <p>Why: under SnapStart the clients are built before the snapshot and live on in every
 * execution environment restored from it. A provider that had already resolved (and cached)
 * the role's credentials would carry them, and the state of its refresh, into each of those
 * environments. The SnapStart hooks call {@link #renew()} after a restore, so each environment
 * starts with a provider that has resolved nothing; the clients keep this wrapper and need no
 * rebuilding.
 */
final class RenewableCredentials implements AwsCredentialsProvider, AutoCloseable {

    private final Supplier<AwsCredentialsProvider> factory;
    private volatile AwsCredentialsProvider delegate;
    private volatile int generation;

    RenewableCredentials(Supplier<AwsCredentialsProvider> factory) {
        this.factory = Objects.requireNonNull(factory, "factory");
        this.delegate = Objects.requireNonNull(factory.get(), "factory gave no provider");
    }

    @Override
    public AwsCredentials resolveCredentials() {
        return delegate.resolveCredentials();
    }

    /** Replaces the delegate with a new one from the factory, closing the old one. */
    synchronized void renew() {
        AwsCredentialsProvider old = delegate;
        delegate = Objects.requireNonNull(factory.get(), "factory gave no provider");
        generation++;
        closeQuietly(old);
    }

    /** The provider credentials come from now (tests, logs). */
    AwsCredentialsProvider delegate() {
        return delegate;
    }

    /** How many times {@link #renew()} ran. */
    int generation() {
        return generation;
    }

    @Override
    public void close() {
        closeQuietly(delegate);
    }

    private static void closeQuietly(AwsCredentialsProvider provider) {
        if (provider instanceof AutoCloseable closeable) {
            try {
                closeable.close();
            } catch (Exception e) {
                // a provider that cannot close holds nothing we could free
            }
        }
    }

    @Override
    public String toString() {
        return "RenewableCredentials[" + delegate + "]";
    }
}
