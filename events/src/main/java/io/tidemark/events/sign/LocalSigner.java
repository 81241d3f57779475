package io.tidemark.events.sign;

import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.Signature;

/** Signs with a key held in memory: local-cloud's stand-in for KMS. */
public final class LocalSigner implements DocumentSigner {
    private final KeyPair keys;
    private final String keyId;

    public LocalSigner(KeyPair keys) {
        this.keys = keys;
        this.keyId = "local:" + EcKeys.fingerprint(keys.getPublic());
    }

    @Override
    public String keyId() {
        return keyId;
    }

    @Override
    public byte[] sign(byte[] message) {
        try {
            Signature s = Signature.getInstance("SHA256withECDSA");
            s.initSign(keys.getPrivate());
            s.update(message);
            return s.sign();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("signing failed", e);
        }
    }
}
