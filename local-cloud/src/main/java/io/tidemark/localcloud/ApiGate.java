package io.tidemark.localcloud;

import io.tidemark.functions.runtime.ApiGatewayProxy;
import io.tidemark.localcloud.iam.AccessRequest;
import io.tidemark.localcloud.iam.Decision;
import io.tidemark.localcloud.iam.Principal;
import java.util.List;
import java.util.Map;

/**
 * IAM authorization of the local API, as API Gateway does it for methods with
 * {@code AuthorizationType: AWS_IAM}: the request's SigV4 signature (service {@code execute-api})
 * is verified, the key must be known, unexpired and carry its token, and the caller must be
 * allowed {@code execute-api:Invoke} on the method's ARN. Every refusal is a 403 with API Gateway's
 * JSON body. The local-only routes that stand in for SQS ({@link LocalJobQueueHandler}) are judged
 * as the SQS calls they replace ({@code sqs:ReceiveMessage}, {@code sqs:ChangeMessageVisibility},
 * {@code sqs:DeleteMessage} on the stanza's job queue), since a node calls SQS directly in AWS.
 *
 * <p>Before the signature, as API Gateway does for a method with {@code ApiKeyRequired}
 * ({@link ApiKeyRules}: every method of the stack): the {@code x-api-key} header must name a key
 * local-cloud issued (any stanza's: the key picks a usage plan, IAM then decides), else 403
 * {@code {"message":"Forbidden"}}; and the key's token bucket must have a token, else 429
 * {@code {"message":"Too Many Requests"}}.
 */
final class ApiGate {

    private static final Map<String, String> SQS_ROUTES = Map.of(
            LocalJobQueueHandler.RECEIVE, "sqs:ReceiveMessage",
            LocalJobQueueHandler.VISIBILITY, "sqs:ChangeMessageVisibility",
            LocalJobQueueHandler.DELETE, "sqs:DeleteMessage");

    private final Enforcement enforcement;
    private final LocalApiKeys apiKeys;

    ApiGate(Enforcement enforcement, LocalApiKeys apiKeys) {
        this.enforcement = enforcement;
        this.apiKeys = apiKeys;
    }

    /** The caller, allowed; or the response that refuses the request. */
    sealed interface Verdict {
        record Pass(SessionKeys.Key key) implements Verdict {
        }

        record Refuse(ApiGatewayProxy.Response response) implements Verdict {
        }
    }

    Verdict check(String method, String rawPath, String rawQuery, String resourceTemplate,
            Map<String, String> pathParameters, Map<String, List<String>> headers, byte[] body, String path) {
        String sqs = SQS_ROUTES.get(resourceTemplate);
        AccessRequest request = sqs != null
                ? AccessRequest.of(sqs, enforcement.identities().jobQueueArn(pathParameters.get("stanza")))
                : AccessRequest.of("execute-api:Invoke", enforcement.identities().executeApiArn(method, path));
        if (sqs == null && apiKeys.rules().requiresKey(method, resourceTemplate)) {
            String key = header(headers, "x-api-key");
            if (apiKeys.stanzaOf(key).isEmpty()) {
                enforcement.refuse("anonymous", request.action(), request.resource(), key == null
                        ? "no x-api-key header (the method requires an API key)" : "an x-api-key this API never issued");
                return respond(403, "message", "Forbidden", "ForbiddenException");
            }
            if (!apiKeys.take(key)) {
                // the usage plan's throttle: not a denial, the caller retries
                return respond(429, "message", "Too Many Requests", "TooManyRequestsException");
            }
        }
        SigV4Verifier.Result result = SigV4Verifier.verify(enforcement.keys(), "execute-api", method, rawPath,
                rawQuery, headers, body);
        return switch (result) {
            case SigV4Verifier.Result.Missing m -> {
                enforcement.refuse("anonymous", request.action(), request.resource(), "no SigV4 Authorization header");
                yield refuse("message", "Missing Authentication Token", "MissingAuthenticationTokenException");
            }
            case SigV4Verifier.Result.BadKey b -> {
                enforcement.refuse(Enforcement.who(b.check()), request.action(), request.resource(),
                        Enforcement.reason(b.check()));
                yield b.check() instanceof SessionKeys.Check.Expired
                        ? refuse("message", "The security token included in the request is expired",
                                "ExpiredTokenException")
                        : refuse("message", "The security token included in the request is invalid",
                                "UnrecognizedClientException");
            }
            case SigV4Verifier.Result.BadSignature s -> {
                enforcement.refuse(s.key() == null ? "access key " + s.accessKeyId() : s.key().principal().name(),
                        request.action(), request.resource(), s.why());
                yield refuse("message", s.why().startsWith("Signature expired") ? s.why()
                        : "The request signature we calculated does not match the signature you provided. "
                                + "Check your AWS Secret Access Key and signing method. "
                                + "Consult the service documentation for details.", "InvalidSignatureException");
            }
            case SigV4Verifier.Result.Ok ok -> {
                Principal p = ok.key().principal();
                Decision d = enforcement.judge(p, request);
                // API Gateway's IAM denial names the caller as it sees it (the assumed-role ARN) and
                // carries "Message" (capital M), unlike its other errors
                yield d.allowed() ? new Verdict.Pass(ok.key())
                        : refuse("Message", "User: " + identity(ok.key(), null, null).userArn()
                                + " is not authorized to perform: " + request.action() + " on resource: "
                                + request.resource() + (d instanceof Decision.Denied x && x.explicit()
                                        ? " with an explicit deny" : ""), "AccessDeniedException");
            }
        };
    }

    private static String header(Map<String, List<String>> headers, String name) {
        for (Map.Entry<String, List<String>> e : headers.entrySet()) {
            if (e.getKey() != null && e.getKey().equalsIgnoreCase(name) && !e.getValue().isEmpty()) {
                return e.getValue().get(e.getValue().size() - 1);
            }
        }
        return null;
    }

    private static Verdict refuse(String field, String message, String errorType) {
        return respond(403, field, message, errorType);
    }

    private static Verdict respond(int status, String field, String message, String errorType) {
        return new Verdict.Refuse(new ApiGatewayProxy.Response(status,
                Map.of("Content-Type", "application/json", "x-amzn-ErrorType", errorType), null,
                "{\"" + field + "\":\"" + message.replace("\\", "\\\\").replace("\"", "\\\"") + "\"}", false));
    }

    /**
     * requestContext.identity as API Gateway fills it for an IAM-authorized call: for a role
     * session the assumed-role ARN ({@code arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION}) and
     * caller/user {@code ROLEID:SESSION}; for an IAM user its ARN and id.
     */
    static ApiGatewayProxy.Identity identity(SessionKeys.Key key, String sourceIp, String userAgent) {
        Principal p = key.principal();
        String arn = p.arn();
        String account = account(arn);
        String session = p.name().replaceAll("[^\\w+=,.@-]", "-");
        int role = arn.indexOf(":role/");
        if (key.isSession() && role > 0) {
            String roleName = arn.substring(arn.lastIndexOf('/') + 1);
            String caller = "AROA" + Integer.toHexString(arn.hashCode()).toUpperCase(java.util.Locale.ROOT) + ":" + session;
            return new ApiGatewayProxy.Identity(sourceIp, userAgent,
                    "arn:aws:sts::" + account + ":assumed-role/" + roleName + "/" + session, caller, account,
                    key.accessKeyId(), caller);
        }
        String id = "AIDA" + Integer.toHexString(arn.hashCode()).toUpperCase(java.util.Locale.ROOT);
        return new ApiGatewayProxy.Identity(sourceIp, userAgent, arn, id, account, key.accessKeyId(), id);
    }

    private static String account(String arn) {
        String[] parts = arn.split(":", 6);
        return parts.length > 4 && !parts[4].isEmpty() ? parts[4] : LocalLambdaContext.ACCOUNT_ID;
    }
}
