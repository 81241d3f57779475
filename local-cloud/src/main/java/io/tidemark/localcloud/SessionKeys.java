package io.tidemark.localcloud;

import io.tidemark.localcloud.iam.Principal;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The keys local-cloud hands out and recognizes: per principal a session key ({@code ASIA...},
 * secret, session token) that is replaced every {@code rotation} and valid for {@code lifetime}
 * from its issue, as an instance profile or a Lambda role session is; plus long-lived static keys
 * (an IAM user's, e.g. the operator's {@code DIR/credentials.properties}). Every enforcement point
 * asks {@link #check} who a key belongs to and whether it may still be used.
 *
 * <p>Keys are kept after they expire so that a late caller is told its token expired (AWS's
 * {@code ExpiredToken}) rather than that the key does not exist.
 */
final class SessionKeys {

    /** Production-like defaults: a new key every 45 minutes, each valid 60 minutes. */
    static final Duration DEFAULT_ROTATION = Duration.ofMinutes(45);
    static final Duration DEFAULT_LIFETIME = Duration.ofMinutes(60);

    private static final String KEY_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    private static final String SECRET_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    /** One key: a session key has a token and an expiration; a static key has neither. */
    record Key(Principal principal, String accessKeyId, String secretAccessKey, String sessionToken,
            Instant issued, Instant expiration) {
        Key {
            Objects.requireNonNull(principal, "principal");
            Objects.requireNonNull(accessKeyId, "accessKeyId");
            Objects.requireNonNull(secretAccessKey, "secretAccessKey");
        }

        boolean isSession() {
            return sessionToken != null;
        }

        @Override
        public String toString() {
            return "Key[" + principal.name() + ", " + accessKeyId + ", expires " + expiration + "]";
        }
    }

    /** What a presented key (and token) amounts to. */
    sealed interface Check {
        /** The key exists, is not expired, and the token (if a session key) matches. */
        record Valid(Key key) implements Check {
        }

        /** No such key was ever issued here. */
        record Unknown(String accessKeyId) implements Check {
        }

        /** A session key past its expiration. */
        record Expired(Key key) implements Check {
        }

        /** A session key presented without its token or with another one (or a static key with a token). */
        record BadToken(Key key) implements Check {
        }
    }

    private final Duration rotation;
    private final Duration lifetime;
    private final Clock clock;
    private final SecureRandom random = new SecureRandom();
    private final Map<String, Key> byAccessKey = new ConcurrentHashMap<>();
    private final Map<String, Key> current = new HashMap<>();
    private Path file;

    SessionKeys(Duration rotation, Duration lifetime, Clock clock) {
        if (rotation.isNegative() || rotation.isZero()) {
            throw new IllegalArgumentException("credential rotation must be positive: " + rotation);
        }
        if (lifetime.compareTo(rotation) <= 0) {
            throw new IllegalArgumentException("credential lifetime (" + lifetime
                    + ") must be longer than the rotation period (" + rotation
                    + "), else a caller could be handed a key that dies before the next one exists");
        }
        this.rotation = rotation;
        this.lifetime = lifetime;
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    Duration rotation() {
        return rotation;
    }

    Duration lifetime() {
        return lifetime;
    }

    Instant now() {
        return clock.instant();
    }

    /**
     * Keeps the session keys in {@code file} (mode 600, one key a line) and takes back those a
     * previous run on the same directory issued, so that a restarted local cloud still honours
     * the keys its clients hold (they were issued for their lifetime, restart or not) and says
     * {@code ExpiredToken}, not "unknown key", for those that have since expired. Keys expired
     * for longer than a lifetime are dropped.
     */
    synchronized void persistIn(Path file) throws IOException {
        Instant now = clock.instant();
        List<String> kept = new ArrayList<>();
        if (Files.exists(file)) {
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                String[] f = line.split("\t");
                if (f.length != 7) {
                    continue; // a line cut short by a crash
                }
                Key k = new Key(new Principal(f[1], f[2]), f[0], f[3], f[4], Instant.ofEpochMilli(Long.parseLong(f[5])),
                        Instant.ofEpochMilli(Long.parseLong(f[6])));
                if (k.expiration().plus(lifetime).isBefore(now)) {
                    continue;
                }
                byAccessKey.put(k.accessKeyId(), k);
                Key cur = current.get(k.principal().arn());
                if (cur == null || k.issued().isAfter(cur.issued())) {
                    current.put(k.principal().arn(), k);
                }
                kept.add(line);
            }
        }
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.deleteIfExists(tmp);
        Files.createFile(tmp, ownerOnly());
        Files.write(tmp, kept, StandardCharsets.UTF_8);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        this.file = file;
    }

    private static FileAttribute<?>[] ownerOnly() {
        try {
            return new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"))};
        } catch (UnsupportedOperationException e) {
            return new FileAttribute<?>[0];
        }
    }

    private void save(Key k) {
        if (file == null) {
            return;
        }
        String line = String.join("\t", k.accessKeyId(), k.principal().name(), k.principal().arn(), k.secretAccessKey(),
                k.sessionToken(), Long.toString(k.issued().toEpochMilli()), Long.toString(k.expiration().toEpochMilli()));
        try {
            Files.writeString(file, line + "\n", StandardCharsets.UTF_8, StandardOpenOption.APPEND);
        } catch (IOException e) {
            // the key still works in this run; only a restart would forget it
            throw new LocalCloudException("cannot record a session key in " + file + ": " + e.getMessage(), e);
        }
    }

    /** Registers a long-lived key (an IAM user's access key): no token, never expires. */
    void addStatic(Principal principal, String accessKeyId, String secretAccessKey) {
        byAccessKey.put(accessKeyId, new Key(principal, accessKeyId, secretAccessKey, null, null, null));
    }

    /** The principal's session key of this rotation period, minting a new one when the period is over. */
    synchronized Key current(Principal principal) {
        Instant now = clock.instant();
        Key k = current.get(principal.arn());
        if (k == null || !now.isBefore(k.issued().plus(rotation))) {
            k = new Key(principal, "ASIA" + randomString(KEY_CHARS, 16), randomString(SECRET_CHARS, 40),
                    randomString(SECRET_CHARS, 120), now, now.plus(lifetime));
            save(k);
            current.put(principal.arn(), k);
            byAccessKey.put(k.accessKeyId(), k);
        }
        return k;
    }

    /** Who {@code accessKeyId} is and whether it may be used with {@code sessionToken} (null: none sent). */
    Check check(String accessKeyId, String sessionToken) {
        Key k = accessKeyId == null ? null : byAccessKey.get(accessKeyId);
        if (k == null) {
            return new Check.Unknown(accessKeyId);
        }
        if (!k.isSession()) {
            return sessionToken == null ? new Check.Valid(k) : new Check.BadToken(k);
        }
        if (!clock.instant().isBefore(k.expiration())) {
            return new Check.Expired(k);
        }
        if (sessionToken == null || !MessageDigest.isEqual(sessionToken.getBytes(java.nio.charset.StandardCharsets.UTF_8),
                k.sessionToken().getBytes(java.nio.charset.StandardCharsets.UTF_8))) {
            return new Check.BadToken(k);
        }
        return new Check.Valid(k);
    }

    /** The secret of a known key (expired or not), for signature checks that need it first. */
    Key find(String accessKeyId) {
        return accessKeyId == null ? null : byAccessKey.get(accessKeyId);
    }

    /**
     * The {@code Expiration} the credentials endpoint serves for {@code key}: its real expiry.
     *
     * <p>How clients refresh on it. The SDK's {@code ContainerCredentialsProvider} (2.40.17, read
     * from its bytecode) caches a fetch with stale time = Expiration - 1 min (from then each call
     * blocks to refresh) and prefetch time = min(now + 1 h, Expiration - 15 min), which its
     * {@code CachedSupplier} moves later by a random jitter of up to (stale - 1 min) - prefetch,
     * i.e. up to 13 minutes; a fetch whose stale time is already past is logged as a warning and
     * kept for one second. With the defaults (new key every 45 min, valid 60) it therefore
     * prefetches somewhere between minute 45 (just after the next rotation: it gets the new key)
     * and minute 58, surely by 59, and never on every call. With test periods in seconds no
     * Expiration can fit its minute-sized windows between two rotations (it would refresh on every
     * call, warning each time), so we do not bend the served value to it: a later Expiration than
     * the real one would keep other clients on a dead key. Tidemark's own clients
     * ({@code credentials.uri}, {@code TIDEMARK_CREDENTIALS_URI}) renew at Expiration - min(5 min,
     * half the remaining life), which falls after the next rotation whenever lifetime &gt;= 2 x
     * rotation (true for the defaults and for test settings such as 2 s / 6 s).
     */
    Instant servedExpiration(Key key) {
        return key.expiration();
    }

    private String randomString(String alphabet, int length) {
        StringBuilder sb = new StringBuilder(length);
        for (int i = 0; i < length; i++) {
            sb.append(alphabet.charAt(random.nextInt(alphabet.length())));
        }
        return sb.toString();
    }
}
