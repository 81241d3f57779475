package io.tidemark.localcloud;

import com.fasterxml.jackson.databind.JsonNode;
import io.tidemark.events.json.Json;
import io.tidemark.localcloud.iam.StackAccess;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Set;
import java.util.TreeSet;

/**
 * What API Gateway checks before IAM, as the stack sets it: which methods require an API key
 * ({@code "METHOD /resource/{path}"}, as the local routes name them) and the throttle of each
 * stanza's usage plan (token bucket: {@code burstLimit} tokens, refilled at {@code rateLimit} a
 * second). Read from the {@code ApiKeys} section infra-cdk writes into the committed template
 * ({@link StackAccess#TEMPLATE}); the local-only routes that stand in for SQS and CloudWatch are not
 * API methods of the stack and so require no key.
 */
public record ApiKeyRules(Set<String> keyRequired, double rateLimit, int burstLimit) {

    public ApiKeyRules {
        keyRequired = Set.copyOf(keyRequired);
        if (!(rateLimit > 0) || burstLimit < 1) {
            throw new IllegalArgumentException("an API key throttle needs rate > 0 and burst >= 1, not rate "
                    + rateLimit + ", burst " + burstLimit);
        }
    }

    /** Whether a call of {@code method} on the route {@code resourceTemplate} must carry a valid key. */
    boolean requiresKey(String method, String resourceTemplate) {
        return keyRequired.contains(method + " " + resourceTemplate);
    }

    /** The deployed stack's rules (what {@code tidemark local-cloud} and the end-to-end tests apply). */
    public static ApiKeyRules ofStack() {
        try (InputStream in = ApiKeyRules.class.getResourceAsStream(StackAccess.TEMPLATE)) {
            if (in == null) {
                throw new IllegalStateException("resource " + StackAccess.TEMPLATE + " is missing from local-cloud's jar");
            }
            return of(Json.mapper().readTree(in));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + StackAccess.TEMPLATE, e);
        }
    }

    /** From a template in the committed file's form. */
    static ApiKeyRules of(JsonNode template) {
        JsonNode section = template.path("ApiKeys");
        JsonNode throttle = section.path("UsagePlanThrottle");
        if (!section.path("KeyRequired").isArray() || !throttle.isObject()) {
            throw new IllegalArgumentException("the template has no ApiKeys section with KeyRequired and"
                    + " UsagePlanThrottle (regenerate it: infra-cdk StackTemplateForLocalCloudTest)");
        }
        Set<String> methods = new TreeSet<>();
        section.path("KeyRequired").forEach(m -> methods.add(m.asText()));
        return new ApiKeyRules(methods, throttle.path("RateLimit").asDouble(), throttle.path("BurstLimit").asInt());
    }
}
