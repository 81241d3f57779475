package io.tidemark.events.credentials;

/** No usable credentials right now (endpoint down, bad answer); the next request asks again. */
public final class CredentialsUnavailable extends RuntimeException {
    public CredentialsUnavailable(String message, Throwable cause) {
        super(message, cause);
    }
}
