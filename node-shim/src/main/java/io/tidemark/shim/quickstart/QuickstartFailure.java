package io.tidemark.shim.quickstart;

/** A demo step failed; the message says which and why. */
final class QuickstartFailure extends RuntimeException {
    QuickstartFailure(String message) {
        super(message);
    }
}
