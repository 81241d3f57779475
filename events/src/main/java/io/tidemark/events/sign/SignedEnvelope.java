package io.tidemark.events.sign;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tidemark.events.json.CanonicalJson;
import java.security.GeneralSecurityException;
import java.security.PublicKey;
import java.security.Signature;
import java.util.Base64;

/**
 * A JSON document with a detached signature over its canonical bytes:
 * <pre>{"document": {...}, "signature": {"algorithm": "ECDSA_SHA_256", "keyId": "...", "value": "&lt;base64 DER&gt;"}}</pre>
 * Verification re-canonicalizes the document, so formatting does not matter but any change of
 * content does: one altered byte of meaning fails.
 */
public final class SignedEnvelope {
    private SignedEnvelope() {
    }

    public static ObjectNode sign(JsonNode document, DocumentSigner signer) {
        byte[] bytes = CanonicalJson.canonicalize(document);
        ObjectNode envelope = JsonNodeFactory.instance.objectNode();
        envelope.set("document", document);
        envelope.putObject("signature")
                .put("algorithm", DocumentSigner.ALGORITHM)
                .put("keyId", signer.keyId())
                .put("value", Base64.getEncoder().encodeToString(signer.sign(bytes)));
        return envelope;
    }

    /** Returns the document when the signature is valid for {@code key}; otherwise says why not. */
    public static JsonNode verify(byte[] envelopeJson, PublicKey key) {
        JsonNode envelope;
        try {
            envelope = CanonicalJson.parse(envelopeJson);
        } catch (RuntimeException e) {
            throw new PlanSignatureException("signed document is not valid JSON: " + e.getMessage(), e);
        }
        return verify(envelope, key);
    }

    public static JsonNode verify(JsonNode envelope, PublicKey key) {
        JsonNode document = envelope.get("document");
        JsonNode sig = envelope.get("signature");
        if (document == null || !document.isObject() || sig == null || !sig.isObject()) {
            throw new PlanSignatureException("not a signed document: 'document' and 'signature' objects are required");
        }
        if (!DocumentSigner.ALGORITHM.equals(sig.path("algorithm").asText())) {
            throw new PlanSignatureException("unsupported signature algorithm '" + sig.path("algorithm").asText() + "'");
        }
        byte[] value;
        try {
            value = Base64.getDecoder().decode(sig.path("value").asText());
        } catch (IllegalArgumentException e) {
            throw new PlanSignatureException("signature value is not base64", e);
        }
        byte[] bytes;
        try {
            bytes = CanonicalJson.canonicalize(document);
        } catch (RuntimeException e) {
            throw new PlanSignatureException("document cannot be canonicalized: " + e.getMessage(), e);
        }
        boolean ok;
        try {
            Signature s = Signature.getInstance("SHA256withECDSA");
            s.initVerify(key);
            s.update(bytes);
            ok = s.verify(value);
        } catch (GeneralSecurityException e) {
            throw new PlanSignatureException("signature cannot be checked: " + e.getMessage(), e);
        }
        if (!ok) {
            throw new PlanSignatureException("signature does not match the document (key "
                    + sig.path("keyId").asText() + "): the plan was altered or signed by another key");
        }
        return document;
    }
}
