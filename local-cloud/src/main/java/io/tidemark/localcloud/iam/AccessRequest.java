package io.tidemark.localcloud.iam;

import java.util.Map;
import java.util.Objects;

/**
 * One call to judge: the IAM action ({@code s3:GetObject}), the ARN of the resource it acts on
 * ({@code arn:aws:s3:::bucket/main/wal/...}; {@code *} for actions without a resource type), and
 * the request's condition keys ({@code s3:prefix}, {@code kms:ViaService}, ...). Keys the
 * evaluator derives from the principal ({@code aws:PrincipalArn}) need not be given.
 */
public record AccessRequest(String action, String resource, Map<String, String> context) {
    public AccessRequest {
        Objects.requireNonNull(action, "action");
        Objects.requireNonNull(resource, "resource");
        context = Map.copyOf(context);
    }

    public static AccessRequest of(String action, String resource) {
        return new AccessRequest(action, resource, Map.of());
    }
}
