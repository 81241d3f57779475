package io.tidemark.events.api;

/**
 * The functions behind the API, as the CDK stack names them (its construct id, which is also the
 * role local-cloud runs the function as) and the handler class Lambda loads. Named by class name
 * only: {@code events} does not depend on {@code functions}.
 */
public enum ApiFunction {

    CATALOG_API("CatalogApi", "io.tidemark.functions.api.CatalogApiHandler"),
    RESTORE_PLAN("RestorePlan", "io.tidemark.functions.plan.RestorePlanHandler"),
    EXPIRE_API("ExpireApi", "io.tidemark.functions.retain.ExpireApiHandler"),
    VERIFY_API("VerifyApi", "io.tidemark.functions.verify.VerifyApiHandler");

    private final String stackName;
    private final String handlerClass;

    ApiFunction(String stackName, String handlerClass) {
        this.stackName = stackName;
        this.handlerClass = handlerClass;
    }

    /** The function's name in the stack ({@code CatalogApi}, ...). */
    public String stackName() {
        return stackName;
    }

    /** The fully qualified class of its Lambda handler. */
    public String handlerClass() {
        return handlerClass;
    }
}
