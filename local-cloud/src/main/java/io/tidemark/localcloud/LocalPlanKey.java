package io.tidemark.localcloud;

import io.tidemark.events.sign.EcKeys;
import io.tidemark.functions.plan.PemFileSigner;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.PublicKey;
import java.util.Base64;

/**
 * The restore-plan signing key of a local-cloud directory, local-cloud's stand-in for the KMS key:
 * an EC P-256 key pair made on first start and kept in {@code DIR/plan-key.pem} (mode 600, the
 * PKCS#8 private key and the SPKI public key). The planner reads the file
 * ({@code TIDEMARK_PLAN_PRIVATE_KEY_FILE}); nodes get the public key from tidemark.conf
 * ({@code plan.publicKey}, base64 DER on one line).
 */
public record LocalPlanKey(Path file, PublicKey publicKey) {

    static final String FILE_NAME = "plan-key.pem";

    static LocalPlanKey loadOrCreate(Path dir) throws IOException {
        Path file = dir.resolve(FILE_NAME);
        if (!Files.exists(file)) {
            KeyPair pair = EcKeys.generate();
            Path tmp = Files.createTempFile(dir, ".plan-key", ".tmp");
            try {
                try {
                    Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
                } catch (UnsupportedOperationException e) {
                    // not a POSIX file system
                }
                Files.writeString(tmp, EcKeys.privatePem(pair.getPrivate()) + EcKeys.publicPem(pair.getPublic()),
                        StandardCharsets.US_ASCII);
                try {
                    Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
                } catch (AtomicMoveNotSupportedException e) {
                    Files.move(tmp, file);
                }
            } finally {
                Files.deleteIfExists(tmp);
            }
        }
        try {
            return new LocalPlanKey(file, PemFileSigner.read(file).publicKey());
        } catch (RuntimeException e) {
            throw new LocalCloudException(file + " is not a plan signing key (" + e.getMessage()
                    + "); delete it to make a new one (plans signed with the old key will no longer verify)", e);
        }
    }

    /** The public key as tidemark.conf carries it: base64 of the DER SPKI, one line. */
    public String publicKeyBase64() {
        return Base64.getEncoder().encodeToString(publicKey.getEncoded());
    }
}
