package io.tidemark.localcloud;

import io.tidemark.localcloud.iam.AccessPolicy;
import io.tidemark.localcloud.iam.AccessRequest;
import io.tidemark.localcloud.iam.Decision;
import io.tidemark.localcloud.iam.Principal;
import io.tidemark.localcloud.iam.StackIdentities;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What every enforcement point of local-cloud shares: the stack's policy and identities, the keys
 * in circulation, and the record of refusals (one log line each, and a list tests can read).
 */
final class Enforcement {

    private static final Logger LOG = LoggerFactory.getLogger(Enforcement.class);
    private static final int KEPT_DENIALS = 10_000;

    private final AccessPolicy policy;
    private final StackIdentities identities;
    private final SessionKeys keys;
    private final List<Denial> denials = new ArrayList<>();

    Enforcement(AccessPolicy policy, StackIdentities identities, SessionKeys keys) {
        this.policy = Objects.requireNonNull(policy, "policy");
        this.identities = Objects.requireNonNull(identities, "identities");
        this.keys = Objects.requireNonNull(keys, "keys");
    }

    StackIdentities identities() {
        return identities;
    }

    SessionKeys keys() {
        return keys;
    }

    /** Evaluates the request for the principal; a denial is logged and recorded. */
    Decision judge(Principal principal, AccessRequest request) {
        Decision d = policy.decide(principal, request);
        if (d instanceof Decision.Denied denied) {
            refuse(principal.name() + " (" + principal.arn() + ")", request.action(), request.resource(),
                    (denied.explicit() ? "explicit deny: " : "implicit deny: ") + denied.why());
        }
        return d;
    }

    boolean allows(Principal principal, AccessRequest request) {
        return judge(principal, request).allowed();
    }

    /** AWS's wording of a denial: "User: ARN is not authorized to perform: ACTION on resource: R because ...". */
    static String notAuthorized(Principal principal, AccessRequest request, Decision decision) {
        String because = decision instanceof Decision.Denied d && d.explicit()
                ? "with an explicit deny in an identity-based policy"
                : "because no identity-based policy allows the " + request.action() + " action";
        return "User: " + principal.arn() + " is not authorized to perform: " + request.action()
                + " on resource: " + request.resource() + " " + because;
    }

    /** Records a refusal that is not a policy decision (expired or unknown key, bad signature). */
    void refuse(String who, String action, String resource, String reason) {
        Denial d = new Denial(keys.now(), who, action, resource, reason);
        LOG.warn("{}", d);
        synchronized (denials) {
            if (denials.size() == KEPT_DENIALS) {
                denials.remove(0);
            }
            denials.add(d);
        }
    }

    /** Who a key check names, for refusals. */
    static String who(SessionKeys.Check check) {
        return switch (check) {
            case SessionKeys.Check.Valid v -> v.key().principal().name();
            case SessionKeys.Check.Unknown u -> "access key " + u.accessKeyId();
            case SessionKeys.Check.Expired e -> e.key().principal().name() + " (key " + e.key().accessKeyId() + ")";
            case SessionKeys.Check.BadToken b -> b.key().principal().name() + " (key " + b.key().accessKeyId() + ")";
        };
    }

    static String reason(SessionKeys.Check check) {
        return switch (check) {
            case SessionKeys.Check.Valid v -> "valid";
            case SessionKeys.Check.Unknown u -> "unknown access key";
            case SessionKeys.Check.Expired e -> "expired token (expired " + e.key().expiration() + ")";
            case SessionKeys.Check.BadToken b -> "session token missing or not the key's";
        };
    }

    List<Denial> denials() {
        synchronized (denials) {
            return List.copyOf(denials);
        }
    }
}
