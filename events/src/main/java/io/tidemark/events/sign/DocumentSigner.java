package io.tidemark.events.sign;

/**
 * Signs bytes with ECDSA P-256 / SHA-256 and returns the DER-encoded signature: what AWS KMS's
 * {@code ECDSA_SHA_256} and Java's {@code SHA256withECDSA} both produce, so a plan signed by KMS
 * in AWS and by a local key in local-cloud verifies the same way.
 */
public interface DocumentSigner {
    String ALGORITHM = "ECDSA_SHA_256";

    /** Identifies the key (a KMS key ARN, or "local:" and a fingerprint). */
    String keyId();

    byte[] sign(byte[] message);
}
