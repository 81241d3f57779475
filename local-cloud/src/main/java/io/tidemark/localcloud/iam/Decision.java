package io.tidemark.localcloud.iam;

/** The outcome of evaluating one request, with the reason a denial is logged with. */
public sealed interface Decision permits Decision.Allowed, Decision.Denied {

    boolean allowed();

    /** Some statement allows it and none denies it. */
    record Allowed(String statement) implements Decision {
        @Override
        public boolean allowed() {
            return true;
        }
    }

    /** An explicit Deny matched ({@code explicit}), or no statement allows it (implicit deny). */
    record Denied(boolean explicit, String why) implements Decision {
        @Override
        public boolean allowed() {
            return false;
        }
    }
}
