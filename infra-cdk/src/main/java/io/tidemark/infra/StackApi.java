package io.tidemark.infra;

import io.tidemark.events.api.ApiFunction;
import io.tidemark.events.api.ApiRoute;
import io.tidemark.infra.TidemarkStack.TidemarkFunction;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import software.amazon.awscdk.RemovalPolicy;
import software.amazon.awscdk.Stack;
import software.amazon.awscdk.services.apigateway.AccessLogFormat;
import software.amazon.awscdk.services.apigateway.AuthorizationType;
import software.amazon.awscdk.services.apigateway.EndpointType;
import software.amazon.awscdk.services.apigateway.LambdaIntegration;
import software.amazon.awscdk.services.apigateway.LogGroupLogDestination;
import software.amazon.awscdk.services.apigateway.MethodLoggingLevel;
import software.amazon.awscdk.services.apigateway.MethodOptions;
import software.amazon.awscdk.services.apigateway.RequestValidator;
import software.amazon.awscdk.services.apigateway.RestApi;
import software.amazon.awscdk.services.apigateway.StageOptions;
import software.amazon.awscdk.services.logs.LogGroup;
import software.amazon.awscdk.services.logs.RetentionDays;

/**
 * The stack's REST API: stage, access log, request validation, every method of the route table
 * (events {@link ApiRoute}) as a proxy to its function's live alias, and one API key and usage
 * plan per stanza. Created in the stack's own scope (not a child construct), so the logical ids,
 * and with them the deployed resources, are those the stack always had.
 */
record StackApi(RestApi api, Map<String, software.amazon.awscdk.services.apigateway.IApiKey> apiKeys) {

    static final String API_STAGE = TidemarkStack.API_STAGE;

    static StackApi build(Stack stack, TidemarkConfig config, List<String> stanzas,
                          Map<String, TidemarkFunction> functions) {
        Map<String, software.amazon.awscdk.services.apigateway.IApiKey> apiKeys = new LinkedHashMap<>();
        LogGroup accessLog = LogGroup.Builder.create(stack, "ApiAccessLog")
                .retention(RetentionDays.THREE_MONTHS)
                .removalPolicy(RemovalPolicy.RETAIN)
                .build();
        RestApi api = RestApi.Builder.create(stack, "Api")
                .restApiName("tidemark")
                .description("Tidemark catalog and restore plans (IAM auth)")
                .endpointTypes(List.of(EndpointType.REGIONAL))
                .cloudWatchRole(true)
                .cloudWatchRoleRemovalPolicy(RemovalPolicy.RETAIN)
                .defaultMethodOptions(MethodOptions.builder()
                        .authorizationType(AuthorizationType.IAM)
                        .apiKeyRequired(true)
                        .build())
                // Every call names its stanza's API key (x-api-key): the key picks the usage plan
                // whose throttle the call counts against, IAM still decides what it may do.
                .apiKeySourceType(software.amazon.awscdk.services.apigateway.ApiKeySourceType.HEADER)
                .deployOptions(StageOptions.builder()
                        .stageName(API_STAGE)
                        .accessLogDestination(new LogGroupLogDestination(accessLog))
                        .accessLogFormat(AccessLogFormat.jsonWithStandardFields())
                        .loggingLevel(MethodLoggingLevel.ERROR)
                        .dataTraceEnabled(false)
                        .metricsEnabled(true)
                        .throttlingRateLimit(TidemarkConfig.API_STAGE_RATE)
                        .throttlingBurstLimit(TidemarkConfig.API_STAGE_BURST)
                        .build())
                .build();
        RequestValidator validatorOfRequests = api.addRequestValidator("RequestValidator",
                software.amazon.awscdk.services.apigateway.RequestValidatorOptions.builder()
                        .validateRequestParameters(true)
                        .validateRequestBody(true)
                        .build());
        // Every method of the API, from the one table (events ApiRoute): each a proxy to the live
        // alias of its function, IAM-authorized, with the stanza's API key, its parameters validated.
        Map<ApiFunction, LambdaIntegration> integrations = new EnumMap<>(ApiFunction.class);
        for (ApiRoute route : ApiRoute.values()) {
            LambdaIntegration integration = integrations.computeIfAbsent(route.function(), f ->
                    LambdaIntegration.Builder.create(functions.get(f.stackName()).alias()).proxy(true).build());
            api.getRoot().resourceForPath(route.template()).addMethod(route.method(), integration,
                    methodOptions(validatorOfRequests, route));
        }

        // One usage plan and API key per stanza: API Gateway throttles each key on its own, so a
        // node flooding the API spends its stanza's share of the stage's rate, never another's.
        // (IAM cannot throttle, and method throttles apply to a path template, every stanza at once.)
        for (String stanza : stanzas) {
            software.amazon.awscdk.services.apigateway.IApiKey key = api.addApiKey("ApiKey-" + stanza,
                    software.amazon.awscdk.services.apigateway.ApiKeyOptions.builder()
                            .description("Tidemark: API calls of the nodes of stanza " + stanza + " (x-api-key)")
                            .build());
            software.amazon.awscdk.services.apigateway.UsagePlan plan = api.addUsagePlan("UsagePlan-" + stanza,
                    software.amazon.awscdk.services.apigateway.UsagePlanProps.builder()
                            .description("Tidemark: the API throttle of stanza " + stanza)
                            .throttle(software.amazon.awscdk.services.apigateway.ThrottleSettings.builder()
                                    .rateLimit(config.apiStanzaRateLimit())
                                    .burstLimit(config.apiStanzaBurstLimit())
                                    .build())
                            .apiStages(List.of(software.amazon.awscdk.services.apigateway.UsagePlanPerApiStage.builder()
                                    .api(api).stage(api.getDeploymentStage()).build()))
                            .build());
            plan.addApiKey(key);
            apiKeys.put(stanza, key);
        }
        return new StackApi(api, apiKeys);
    }

    private static MethodOptions methodOptions(RequestValidator validator, ApiRoute route) {
        Map<String, Boolean> required = new LinkedHashMap<>();
        for (String p : route.requiredRequestParameters()) {
            required.put(p, true);
        }
        return MethodOptions.builder()
                .authorizationType(route.iamAuthorized() ? AuthorizationType.IAM : AuthorizationType.NONE)
                .apiKeyRequired(route.apiKeyRequired())
                .requestValidator(validator)
                .requestParameters(required)
                .build();
    }
}
