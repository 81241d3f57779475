package io.tidemark.functions.plan;

import io.tidemark.events.sign.DocumentSigner;
import io.tidemark.events.sign.EcKeys;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Signs with the P-256 key of a PEM file holding a {@code PRIVATE KEY} (PKCS#8) and a
 * {@code PUBLIC KEY} (SPKI) block: local-cloud's {@code DIR/plan-key.pem}, in place of KMS.
 */
public final class PemFileSigner implements DocumentSigner {
    private static final Pattern BLOCK = Pattern.compile("-----BEGIN ([A-Z ]+)-----[^-]*-----END \\1-----\\n?");

    private final PrivateKey privateKey;
    private final PublicKey publicKey;
    private final String keyId;

    public PemFileSigner(PrivateKey privateKey, PublicKey publicKey) {
        this.privateKey = privateKey;
        this.publicKey = publicKey;
        this.keyId = "local:" + EcKeys.fingerprint(publicKey);
    }

    public static PemFileSigner read(Path file) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read the plan signing key " + file + ": " + e.getMessage(), e);
        }
        return new PemFileSigner(EcKeys.readPrivate(block(text, "PRIVATE KEY", file)),
                EcKeys.readPublic(block(text, "PUBLIC KEY", file)));
    }

    static String block(String text, String type, Path file) {
        Matcher m = BLOCK.matcher(text);
        while (m.find()) {
            if (m.group(1).equals(type)) {
                return m.group();
            }
        }
        throw new IllegalStateException(file + " has no " + type + " block");
    }

    public PublicKey publicKey() {
        return publicKey;
    }

    @Override
    public String keyId() {
        return keyId;
    }

    @Override
    public byte[] sign(byte[] message) {
        try {
            Signature s = Signature.getInstance("SHA256withECDSA");
            s.initSign(privateKey);
            s.update(message);
            return s.sign();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("signing failed", e);
        }
    }
}
