package io.tidemark.localcloud;

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
import java.util.Properties;

/**
 * The access key pair of a local-cloud directory: generated on first start and kept in
 * {@code DIR/credentials.properties} (mode 600), so restarts and configured nodes keep working.
 */
public record LocalCredentials(String accessKeyId, String secretAccessKey) {

    static final String FILE_NAME = "credentials.properties";
    private static final String UPPER_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    private static final String SECRET_CHARS =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    @Override
    public String toString() {
        return "LocalCredentials[accessKeyId=" + accessKeyId + ", secretAccessKey=***]";
    }

    /** Reads {@code dir/credentials.properties}, or creates it with a fresh key pair. */
    static LocalCredentials loadOrCreate(Path dir) throws IOException {
        Path file = dir.resolve(FILE_NAME);
        if (Files.exists(file)) {
            Properties p = new Properties();
            try (InputStream in = Files.newInputStream(file)) {
                p.load(in);
            }
            String id = p.getProperty("accessKeyId", "").strip();
            String secret = p.getProperty("secretAccessKey", "").strip();
            if (id.isEmpty() || secret.isEmpty()) {
                throw new LocalCloudException(file + " lacks accessKeyId or secretAccessKey; "
                        + "delete it to generate a new key pair");
            }
            return new LocalCredentials(id, secret);
        }
        SecureRandom random = new SecureRandom();
        LocalCredentials created = new LocalCredentials(
                "TMLK" + randomString(random, UPPER_ALNUM, 16), randomString(random, SECRET_CHARS, 40));
        Path tmp = Files.createTempFile(dir, ".credentials", ".tmp");
        try {
            try {
                Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
            } catch (UnsupportedOperationException e) {
                // not a POSIX file system: keep the default permissions
            }
            try (Writer w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
                w.write("# tidemark local-cloud credentials: generated once for this directory and kept across\n");
                w.write("# restarts. Every local S3 request must be signed with them.\n");
                w.write("accessKeyId=" + created.accessKeyId() + "\n");
                w.write("secretAccessKey=" + created.secretAccessKey() + "\n");
            }
            try {
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
        return created;
    }

    private static String randomString(SecureRandom random, String alphabet, int length) {
        StringBuilder sb = new StringBuilder(length);
        for (int i = 0; i < length; i++) {
            sb.append(alphabet.charAt(random.nextInt(alphabet.length())));
        }
        return sb.toString();
    }
}
