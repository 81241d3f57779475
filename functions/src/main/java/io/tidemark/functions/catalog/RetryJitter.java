package io.tidemark.functions.catalog;

import java.security.SecureRandom;
import java.util.SplittableRandom;
import java.util.function.LongSupplier;

/**
 * Random pauses between retries of a lost optimistic write, so that writers racing for one
 * item do not collide again in lockstep.
 *
 * <p>Not {@code ThreadLocalRandom}: its seeds derive from a seeder set once per JVM from the
 * clock. Under SnapStart that JVM state is in the snapshot, so every execution environment
 * restored from it would draw the same pauses: exactly the lockstep the jitter is there to
 * break. Here the generator is seeded from {@link SecureRandom} on first use, and
 * {@link #reseed()} (called by the SnapStart restore hook) seeds it anew per environment.
 */
public final class RetryJitter {

    private static final LongSupplier SECURE_SEED = () -> new SecureRandom().nextLong();
    private static SplittableRandom random;

    private RetryJitter() {
    }

    /** A pause in milliseconds in {@code [1, 5 * min(attempt, 10))}. */
    public static synchronized long pauseMillis(int attempt) {
        if (random == null) {
            random = new SplittableRandom(SECURE_SEED.getAsLong());
        }
        return random.nextLong(1, 5L * Math.min(Math.max(attempt, 1), 10));
    }

    /** New seed from {@link SecureRandom}: after a SnapStart restore. */
    public static void reseed() {
        reseed(SECURE_SEED);
    }

    /** New seed from {@code seed} (tests). */
    public static synchronized void reseed(LongSupplier seed) {
        random = new SplittableRandom(seed.getAsLong());
    }
}
