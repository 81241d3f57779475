package io.tidemark.functions.aws;

import io.tidemark.events.sign.DocumentSigner;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.kms.KmsClient;
import software.amazon.awssdk.services.kms.model.MessageType;
import software.amazon.awssdk.services.kms.model.SigningAlgorithmSpec;

/**
 * Signs restore plans with an asymmetric KMS key (ECC_NIST_P256, SIGN_VERIFY).
 *
 * <p>KMS takes a RAW message of at most 4096 bytes, and a plan is larger; so this sends the
 * SHA-256 of the canonical bytes with {@code MessageType=DIGEST}. KMS then signs that digest as
 * it would have signed the hash of a RAW message: the DER signature verifies with
 * {@code SHA256withECDSA} over the original bytes, exactly as a local key's does
 * ({@code KmsSignerTest} proves the equivalence with a local key).
 */
public final class KmsSigner implements DocumentSigner {

    private final KmsClient kms;
    private final String keyId;

    public KmsSigner(KmsClient kms, String keyId) {
        this.kms = kms;
        this.keyId = keyId;
    }

    @Override
    public String keyId() {
        return keyId;
    }

    @Override
    public byte[] sign(byte[] message) {
        byte[] digest = sha256(message);
        return kms.sign(b -> b.keyId(keyId)
                .message(SdkBytes.fromByteArray(digest))
                .messageType(MessageType.DIGEST)
                .signingAlgorithm(SigningAlgorithmSpec.ECDSA_SHA_256))
                .signature().asByteArray();
    }

    static byte[] sha256(byte[] message) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(message);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
