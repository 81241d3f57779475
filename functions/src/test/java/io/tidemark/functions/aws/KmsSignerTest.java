package io.tidemark.functions.aws;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tidemark.events.sign.EcKeys;
import io.tidemark.events.sign.SignedEnvelope;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.Signature;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.kms.KmsClient;
import software.amazon.awssdk.services.kms.model.MessageType;
import software.amazon.awssdk.services.kms.model.SignRequest;
import software.amazon.awssdk.services.kms.model.SignResponse;
import software.amazon.awssdk.services.kms.model.SigningAlgorithmSpec;

/**
 * KMS signs a DIGEST message as ECDSA over the given SHA-256 (with no further hashing): with a
 * local key that is {@code NONEwithECDSA} over the digest. Such a signature verifies as
 * {@code SHA256withECDSA} over the original bytes, which is what plan verification uses.
 */
@Tag("unit")
class KmsSignerTest {

    @Test
    void ecdsaOverTheDigestEqualsSha256WithEcdsaOverTheMessage() throws Exception {
        KeyPair k = EcKeys.generate();
        byte[] m = "a canonical plan that is far larger than 4096 bytes ...".repeat(200).getBytes(StandardCharsets.UTF_8);
        assertTrue(m.length > 4096);

        Signature digestSigner = Signature.getInstance("NONEwithECDSA");
        digestSigner.initSign(k.getPrivate());
        digestSigner.update(KmsSigner.sha256(m));
        byte[] overDigest = digestSigner.sign();
        Signature verify = Signature.getInstance("SHA256withECDSA");
        verify.initVerify(k.getPublic());
        verify.update(m);
        assertTrue(verify.verify(overDigest), "DIGEST-mode signature must verify as SHA256withECDSA over m");

        Signature messageSigner = Signature.getInstance("SHA256withECDSA");
        messageSigner.initSign(k.getPrivate());
        messageSigner.update(m);
        byte[] overMessage = messageSigner.sign();
        Signature verifyDigest = Signature.getInstance("NONEwithECDSA");
        verifyDigest.initVerify(k.getPublic());
        verifyDigest.update(KmsSigner.sha256(m));
        assertTrue(verifyDigest.verify(overMessage), "and the other way round");
    }

    @Test
    void theKmsSignerSendsTheDigestAndItsEnvelopeVerifiesWithThePublicKey() {
        KeyPair k = EcKeys.generate();
        AtomicReference<SignRequest> seen = new AtomicReference<>();
        KmsClient fake = (KmsClient) Proxy.newProxyInstance(KmsClient.class.getClassLoader(),
                new Class<?>[] {KmsClient.class}, (proxy, method, args) -> {
                    if (method.getName().equals("sign") && args.length == 1 && args[0] instanceof SignRequest r) {
                        seen.set(r);
                        Signature s = Signature.getInstance("NONEwithECDSA");
                        s.initSign(k.getPrivate());
                        s.update(r.message().asByteArray());
                        return SignResponse.builder().keyId(r.keyId()).signature(SdkBytes.fromByteArray(s.sign()))
                                .signingAlgorithm(r.signingAlgorithm()).build();
                    }
                    if (method.isDefault()) {
                        return java.lang.reflect.InvocationHandler.invokeDefault(proxy, method, args);
                    }
                    throw new UnsupportedOperationException(method.getName());
                });
        KmsSigner signer = new KmsSigner(fake, "arn:aws:kms:us-east-1:123456789012:key/abc");
        ObjectNode doc = JsonNodeFactory.instance.objectNode().put("planId", "x").put("pad", "y".repeat(10_000));
        ObjectNode envelope = SignedEnvelope.sign(doc, signer);
        assertEquals(doc, SignedEnvelope.verify(envelope, k.getPublic()));
        assertEquals(MessageType.DIGEST, seen.get().messageType());
        assertEquals(SigningAlgorithmSpec.ECDSA_SHA_256, seen.get().signingAlgorithm());
        assertEquals(32, seen.get().message().asByteArray().length);
        assertEquals("arn:aws:kms:us-east-1:123456789012:key/abc", envelope.get("signature").get("keyId").asText());
    }
}
