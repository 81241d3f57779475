package io.tidemark.functions.plan;

import io.tidemark.functions.catalog.CatalogException;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;

/** {@code GET /restore-plans/{id}/urls}: fresh URLs for a stored plan, to the principal it is bound to. */
final class PlanRenewal {
    private final PlanRecords records;
    private final UrlSigner urlSigner;
    private final Clock clock;
    private final RestorePlanner.Settings settings;

    PlanRenewal(PlanRecords records, UrlSigner urlSigner, Clock clock, RestorePlanner.Settings settings) {
        this.records = records;
        this.urlSigner = urlSigner;
        this.clock = clock;
        this.settings = settings;
    }

    /**
     * Fresh URLs for a stored plan. 404: unknown (or {@code stanza} given and not the plan's); 410:
     * expired; 403: the plan is bound to the principal that asked for it (its {@code createdBy})
     * and the caller is another principal, or the request names no caller at all (IAM cannot
     * scope this route to a stanza, and an id can leak through logs or a saved plan file). Only
     * a plan created without any caller identity (local-cloud without enforcement) is unbound.
     */
    RestorePlanner.Renewed renew(String planId, String caller, String stanza) {
        if (planId == null || !planId.matches("[0-9a-f-]{8,64}")) {
            throw new CatalogException(CatalogException.Kind.NOT_FOUND, "no restore plan '" + planId + "'");
        }
        PlanRecords.Record rec = records.get(planId).orElseThrow(() -> new CatalogException(
                CatalogException.Kind.NOT_FOUND, "no restore plan '" + planId + "'"));
        if (stanza != null && !stanza.equals(rec.stanza())) {
            throw new CatalogException(CatalogException.Kind.NOT_FOUND, "no restore plan '" + planId + "' of stanza '"
                    + stanza + "'");
        }
        Instant now = clock.instant();
        Instant renewableUntil = rec.planExpiresAt().plus(settings.renewalWindow());
        if (!now.isBefore(renewableUntil)) {
            throw new CatalogException(CatalogException.Kind.GONE, "restore plan " + planId + " expired at "
                    + rec.planExpiresAt() + " and its URLs could be renewed until " + renewableUntil
                    + "; ask for a new plan");
        }
        if (rec.createdBy() != null && (caller == null || !samePrincipal(caller, rec.createdBy()))) {
            throw new CatalogException(CatalogException.Kind.FORBIDDEN, "restore plan " + planId
                    + " is bound to the principal that asked for it, and "
                    + (caller == null ? "this request names no caller" : principal(caller) + " is not that principal")
                    + ": ask for a plan of your own");
        }
        UrlSigner.Signed signed = urlSigner.signVersions(PlanRecords.objectVersions(rec.keys()), settings.urlTtl());
        return new RestorePlanner.Renewed(planId, signed.urls(), signed.validUntil(now.truncatedTo(ChronoUnit.MILLIS).plus(settings.urlTtl())));
    }

    /** Two caller ARNs name the same principal: an assumed role's sessions count as the role. */
    static boolean samePrincipal(String a, String b) {
        return principal(a).equals(principal(b));
    }

    static String principal(String arn) {
        // arn:aws:sts::123456789012:assumed-role/RoleName/session -> 123456789012:role/RoleName
        String[] p = arn.split(":", 6);
        if (p.length == 6 && p[2].equals("sts") && p[5].startsWith("assumed-role/")) {
            String[] r = p[5].split("/");
            return p[4] + ":role/" + (r.length > 1 ? r[1] : "");
        }
        if (p.length == 6 && p[2].equals("iam")) {
            String res = p[5];
            if (res.startsWith("role/")) {
                return p[4] + ":role/" + res.substring(res.lastIndexOf('/') + 1);
            }
        }
        return arn;
    }
}
