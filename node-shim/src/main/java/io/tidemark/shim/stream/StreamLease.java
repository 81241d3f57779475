package io.tidemark.shim.stream;

import java.util.Optional;

/** Only one agent per stanza streams: the catalog's stream lease, held while streaming. */
public interface StreamLease {

    /** Acquires (or renews) the lease: empty when held now, else who holds it and until when. */
    Optional<String> acquire();

    /** Renews the held lease; false when it is no longer this agent's (expired and taken over). */
    boolean renew();

    /** Gives it up (at a clean stop), so that another agent need not wait for it to expire. */
    void release();

    /** How often {@link #renew} is due. */
    java.time.Duration renewEvery();

    /** No lease: a single agent (tests, or an operator who runs exactly one). */
    StreamLease NONE = new StreamLease() {
        @Override
        public Optional<String> acquire() {
            return Optional.empty();
        }

        @Override
        public boolean renew() {
            return true;
        }

        @Override
        public void release() {
        }

        @Override
        public java.time.Duration renewEvery() {
            return java.time.Duration.ofDays(1);
        }
    };
}
