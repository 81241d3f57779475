package io.tidemark.localcloud;

import io.tidemark.events.layout.StanzaName;
import java.io.IOException;
import java.io.InputStream;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * The local stand-in for the stack's per-stanza API keys and usage plans: one random key per
 * stanza, issued the first time it is asked for ({@link LocalCloud#apiKey}, the credentials
 * endpoint's {@code /api-keys/<stanza>}, a node config local-cloud writes) and kept in
 * {@code DIR/api-keys.properties} (mode 600) so a restarted cloud honours the keys its nodes hold.
 * In AWS the stack creates a stanza's key with the stanza; here stanzas come and go with
 * {@code stanza-create}, so a key is made on demand. Each key has its own token bucket with the
 * usage plan's rate and burst.
 */
final class LocalApiKeys {

    static final String FILE_NAME = "api-keys.properties";
    private static final String ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Path file;
    private final ApiKeyRules rules;
    private final LongSupplier nanoTime;
    private final Map<String, String> keyOfStanza = new TreeMap<>();
    private final Map<String, String> stanzaOfKey = new HashMap<>();
    private final Map<String, Bucket> buckets = new ConcurrentHashMap<>();

    private LocalApiKeys(Path file, ApiKeyRules rules, LongSupplier nanoTime) {
        this.file = file;
        this.rules = rules;
        this.nanoTime = nanoTime;
    }

    /** The keys issued in {@code dir} before (none if it has no key file yet). */
    static LocalApiKeys loadOrCreate(Path dir, ApiKeyRules rules) throws IOException {
        LocalApiKeys keys = new LocalApiKeys(dir.resolve(FILE_NAME), rules, System::nanoTime);
        if (Files.isRegularFile(keys.file)) {
            Properties p = new Properties();
            try (InputStream in = Files.newInputStream(keys.file)) {
                p.load(in);
            }
            for (String stanza : p.stringPropertyNames()) {
                keys.keyOfStanza.put(stanza, p.getProperty(stanza));
                keys.stanzaOfKey.put(p.getProperty(stanza), stanza);
            }
        }
        return keys;
    }

    ApiKeyRules rules() {
        return rules;
    }

    /** The key of {@code stanza}, issued (and written to the key file) if it has none yet. */
    synchronized String keyOf(String stanza) {
        String name = StanzaName.of(stanza).value();
        String key = keyOfStanza.get(name);
        if (key == null) {
            StringBuilder sb = new StringBuilder(40);
            for (int i = 0; i < 40; i++) {
                sb.append(ALPHABET.charAt(RANDOM.nextInt(ALPHABET.length())));
            }
            key = sb.toString();
            keyOfStanza.put(name, key);
            stanzaOfKey.put(key, name);
            try {
                persist();
            } catch (IOException e) {
                keyOfStanza.remove(name);
                stanzaOfKey.remove(key);
                throw new LocalCloudException("cannot write " + file + ": " + e.getMessage(), e);
            }
        }
        return key;
    }

    /** The stanza a key was issued for; empty for a key this cloud never issued. */
    synchronized Optional<String> stanzaOf(String key) {
        return Optional.ofNullable(key == null ? null : stanzaOfKey.get(key));
    }

    /** Takes one token from the key's bucket; false when the key is over its rate and burst (429). */
    boolean take(String key) {
        return buckets.computeIfAbsent(key, k -> new Bucket(rules.burstLimit(), nanoTime.getAsLong())).take(
                rules.rateLimit(), rules.burstLimit(), nanoTime.getAsLong());
    }

    private void persist() throws IOException {
        Path tmp = Files.createTempFile(file.getParent(), ".api-keys", ".tmp");
        try {
            try {
                Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
            } catch (UnsupportedOperationException e) {
                // not a POSIX file system
            }
            try (Writer w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
                w.write("# The local cloud's API keys, one per stanza (api.key of the stanza's nodes). Keep private.\n");
                for (Map.Entry<String, String> e : keyOfStanza.entrySet()) {
                    w.write(e.getKey() + "=" + e.getValue() + "\n");
                }
            }
            try {
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** A token bucket: starts full, refills continuously at the rate, never above the burst. */
    private static final class Bucket {
        private double tokens;
        private long last;

        Bucket(int burst, long now) {
            this.tokens = burst;
            this.last = now;
        }

        synchronized boolean take(double rate, int burst, long now) {
            tokens = Math.min(burst, tokens + (now - last) / 1e9 * rate);
            last = now;
            if (tokens >= 1) {
                tokens -= 1;
                return true;
            }
            return false;
        }
    }
}
