package io.tidemark.events.sign;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("unit")
class SignedEnvelopeTest {
    private static final ObjectMapper M = new ObjectMapper();

    private static ObjectNode plan() {
        ObjectNode d = M.createObjectNode();
        d.put("stanza", "main").put("expiresAt", "2026-11-21T07:00:00Z");
        d.putArray("files").addObject().put("path", "base/1/1259").put("sha256", "a".repeat(64));
        return d;
    }

    @Test
    void signsAndVerifiesAcrossPemRoundTrip() throws Exception {
        KeyPair keys = EcKeys.generate();
        LocalSigner signer = new LocalSigner(keys);
        byte[] signed = M.writerWithDefaultPrettyPrinter().writeValueAsBytes(SignedEnvelope.sign(plan(), signer));
        JsonNode doc = SignedEnvelope.verify(signed, EcKeys.readPublic(EcKeys.publicPem(keys.getPublic())));
        assertEquals(plan(), doc);
        assertTrue(signer.keyId().startsWith("local:"));
        assertEquals(keys.getPrivate(), EcKeys.readPrivate(EcKeys.privatePem(keys.getPrivate())));
    }

    @Test
    void oneChangedByteIsRefused() throws Exception {
        KeyPair keys = EcKeys.generate();
        String signed = M.writeValueAsString(SignedEnvelope.sign(plan(), new LocalSigner(keys)));
        String tampered = signed.replace("base/1/1259", "base/1/1258");
        PlanSignatureException e = assertThrows(PlanSignatureException.class,
                () -> SignedEnvelope.verify(tampered.getBytes(StandardCharsets.UTF_8), keys.getPublic()));
        assertTrue(e.getMessage().contains("does not match"), e.getMessage());
        String added = signed.replace("\"stanza\":\"main\"", "\"stanza\":\"main\",\"extra\":1");
        assertThrows(PlanSignatureException.class, () -> SignedEnvelope.verify(added.getBytes(StandardCharsets.UTF_8), keys.getPublic()));
    }

    @Test
    void anotherKeyOrNoSignatureIsRefused() throws Exception {
        byte[] signed = M.writeValueAsBytes(SignedEnvelope.sign(plan(), new LocalSigner(EcKeys.generate())));
        assertThrows(PlanSignatureException.class, () -> SignedEnvelope.verify(signed, EcKeys.generate().getPublic()));
        assertThrows(PlanSignatureException.class, () -> SignedEnvelope.verify("{\"document\":{}}".getBytes(StandardCharsets.UTF_8),
                EcKeys.generate().getPublic()));
        assertThrows(PlanSignatureException.class, () -> SignedEnvelope.verify("nope".getBytes(StandardCharsets.UTF_8),
                EcKeys.generate().getPublic()));
    }
}
