package io.tidemark.localcloud.iam;

import java.util.Objects;

/**
 * Who makes a call: a short name for logs ({@code function/WalIndex}, {@code node/main},
 * {@code operator}) and the ARN AWS would report as {@code aws:PrincipalArn} (the role's ARN for a
 * role session, the user's ARN for a user).
 */
public record Principal(String name, String arn) {
    public Principal {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(arn, "arn");
    }
}
