package io.tidemark.shim.restore;

import com.fasterxml.jackson.databind.JsonNode;
import io.tidemark.events.layout.StanzaName;
import io.tidemark.events.plan.PlanException;
import io.tidemark.events.plan.RestorePlan;
import io.tidemark.events.plan.RestorePlanJson;
import io.tidemark.events.sign.PlanSignatureException;
import io.tidemark.events.sign.SignedEnvelope;
import java.security.PublicKey;
import java.time.Instant;

/**
 * The checks a plan passes before anything is written, in this order: the signature over the
 * canonical document (with {@code plan.publicKey}), then the document itself (format version,
 * every field, every path safe: {@link RestorePlanJson#read}), then the expiry, then the stanza.
 * The data directory (running cluster, system identifier, emptiness) is {@link DataDirCheck}'s.
 */
public final class PlanVerifier {
    private PlanVerifier() {
    }

    public static RestorePlan verify(JsonNode envelope, PublicKey key, StanzaName stanza, Instant now) {
        RestorePlan plan = verifyAnyAge(envelope, key, stanza);
        if (plan.isExpired(now)) {
            throw new RestoreRefused("restore plan " + plan.planId() + " expired at " + plan.expiresAt() + " (now " + now
                    + "): ask for a new plan (restore without --plan-file)");
        }
        return plan;
    }

    /**
     * Signature, document and stanza, but not the expiry: for archive-get, which reads the plan a
     * restore already executed while recovery runs, for as long as recovery takes.
     */
    public static RestorePlan verifyAnyAge(JsonNode envelope, PublicKey key, StanzaName stanza) {
        JsonNode document;
        try {
            document = SignedEnvelope.verify(envelope, key);
        } catch (PlanSignatureException e) {
            String m = e.getMessage();
            throw new RestoreRefused(m.startsWith("signature") ? "restore plan " + m : "restore plan refused: " + m);
        }
        RestorePlan plan;
        try {
            plan = RestorePlanJson.read(document);
        } catch (PlanException e) {
            throw new RestoreRefused("restore plan refused: " + e.getMessage(), e);
        }
        if (!plan.stanza().equals(stanza)) {
            throw new RestoreRefused("restore plan " + plan.planId() + " is for stanza '" + plan.stanza() + "', not '"
                    + stanza + "'");
        }
        return plan;
    }
}
