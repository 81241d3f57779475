package io.tidemark.events.api;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Every method of the Tidemark API, the one definition the CDK stack builds its REST API and the
 * nodes' {@code execute-api:Invoke} grants from, local-cloud serves, the handlers dispatch on and
 * the shim builds its request paths with. Each is an API Gateway resource path ({@code {name}}
 * variables, one segment each), the function behind it, and what API Gateway checks first: every
 * method is IAM-authorized (SigV4) and requires the caller's stanza API key ({@code x-api-key},
 * which picks the usage plan whose throttle the call counts against).
 *
 * <p>The order is the stack's: it creates the methods and lists the node's grants in this order,
 * so the synthesized template does not move when a route is read from here.
 */
public enum ApiRoute {

    CATALOG_GET("GET", "/stanzas/{stanza}", ApiFunction.CATALOG_API),
    CATALOG_PUT("PUT", "/stanzas/{stanza}", ApiFunction.CATALOG_API),
    PLAN_CREATE("POST", "/stanzas/{stanza}/restore-plans", ApiFunction.RESTORE_PLAN),
    /** Retention preview only ({@code tidemark expire --dry-run}): the function refuses anything else. */
    EXPIRE("POST", "/stanzas/{stanza}/expire", ApiFunction.EXPIRE_API),
    /** Starts a verify run (202 with its id). */
    VERIFY_START("POST", "/stanzas/{stanza}/verify", ApiFunction.VERIFY_API),
    /** A verify run's state, progress and problems. */
    VERIFY_RUN("GET", "/stanzas/{stanza}/verify/{runId}", ApiFunction.VERIFY_API),
    /** One backup per stanza at a time: acquire, heartbeat, release. */
    LEASE_ACQUIRE("POST", "/stanzas/{stanza}/backup-lease", ApiFunction.CATALOG_API),
    LEASE_RENEW("PUT", "/stanzas/{stanza}/backup-lease", ApiFunction.CATALOG_API),
    LEASE_RELEASE("DELETE", "/stanzas/{stanza}/backup-lease", ApiFunction.CATALOG_API, "leaseId"),
    /** Scheduled backup jobs: list (info, metrics), then claim / pass / report by the node agents. */
    JOBS_LIST("GET", "/stanzas/{stanza}/jobs", ApiFunction.CATALOG_API),
    JOB_CLAIM("POST", "/stanzas/{stanza}/jobs/{jobId}/claim", ApiFunction.CATALOG_API),
    JOB_PASS("POST", "/stanzas/{stanza}/jobs/{jobId}/pass", ApiFunction.CATALOG_API),
    JOB_REPORT("POST", "/stanzas/{stanza}/jobs/{jobId}/report", ApiFunction.CATALOG_API),
    /** A node's report of an object it refused to replace (logged, metric HistoryConflicts). */
    CONFLICT_REPORT("POST", "/stanzas/{stanza}/conflicts", ApiFunction.CATALOG_API),
    /** Restore drills: a node records one it ran ({@code tidemark drill}); info and operators list them. */
    DRILL_REPORT("POST", "/stanzas/{stanza}/drills", ApiFunction.CATALOG_API),
    DRILLS_LIST("GET", "/stanzas/{stanza}/drills", ApiFunction.CATALOG_API),
    /**
     * Fresh presigned URLs for a plan. Plan ids are not stanza-scoped in the path: the planner
     * checks that the caller may read the plan's stanza.
     */
    PLAN_URLS("GET", "/restore-plans/{id}/urls", ApiFunction.RESTORE_PLAN),
    /** One WAL stream per stanza at a time (the agents' {@code stream.enabled}): acquire, renew, release. */
    STREAM_LEASE_ACQUIRE("POST", "/stanzas/{stanza}/stream-lease", ApiFunction.CATALOG_API),
    STREAM_LEASE_RENEW("PUT", "/stanzas/{stanza}/stream-lease", ApiFunction.CATALOG_API),
    STREAM_LEASE_RELEASE("DELETE", "/stanzas/{stanza}/stream-lease", ApiFunction.CATALOG_API, "leaseId");

    private final String method;
    private final String template;
    private final ApiFunction function;
    private final List<String> requiredQuery;
    private final List<String> pathVariables;

    ApiRoute(String method, String template, ApiFunction function, String... requiredQuery) {
        this.method = method;
        this.template = template;
        this.function = function;
        this.requiredQuery = List.of(requiredQuery);
        List<String> vars = new ArrayList<>();
        Matcher m = Templates.VARIABLE.matcher(template);
        while (m.find()) {
            vars.add(m.group(1));
        }
        this.pathVariables = List.copyOf(vars);
    }

    /** The HTTP method ({@code GET}, {@code PUT}, {@code POST}, {@code DELETE}). */
    public String method() {
        return method;
    }

    /** The API Gateway resource path, e.g. {@code /stanzas/{stanza}/jobs/{jobId}/claim}. */
    public String template() {
        return template;
    }

    public ApiFunction function() {
        return function;
    }

    /** Every method is IAM-authorized: the caller signs with SigV4 and needs {@code execute-api:Invoke}. */
    public boolean iamAuthorized() {
        return true;
    }

    /** Every method requires an API key of the caller's stanza ({@code x-api-key}). */
    public boolean apiKeyRequired() {
        return true;
    }

    /** The path variables, in the order of the template ({@code stanza}, {@code jobId}). */
    public List<String> pathVariables() {
        return pathVariables;
    }

    /** The query parameters API Gateway requires before calling the function. */
    public List<String> requiredQuery() {
        return requiredQuery;
    }

    /**
     * The request parameters the stack's request validator requires, in API Gateway's names
     * ({@code method.request.path.stanza}, {@code method.request.querystring.leaseId}).
     */
    public List<String> requiredRequestParameters() {
        List<String> out = new ArrayList<>();
        pathVariables.forEach(v -> out.add("method.request.path." + v));
        requiredQuery.forEach(q -> out.add("method.request.querystring." + q));
        return List.copyOf(out);
    }

    /** The name local-cloud gives the function serving this route ({@code catalog-get}, {@code job-claim}). */
    public String localName() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /**
     * The request path with {@code values} in place of the variables, in template order; each
     * value percent-encoded as one segment (stanza names and ids are unreserved characters and
     * stay as they are).
     *
     * @throws IllegalArgumentException when the count does not match, or a value is empty, {@code .} or {@code ..}
     */
    public String path(Object... values) {
        if (values.length != pathVariables.size()) {
            throw new IllegalArgumentException(method + " " + template + " takes " + pathVariables.size()
                    + " path values " + pathVariables + ", not " + values.length);
        }
        StringBuilder out = new StringBuilder();
        Matcher m = Templates.VARIABLE.matcher(template);
        int i = 0;
        while (m.find()) {
            String value = String.valueOf(Objects.requireNonNull(values[i], m.group(1)));
            if (value.isEmpty() || value.equals(".") || value.equals("..")) {
                throw new IllegalArgumentException("{" + m.group(1) + "} of " + method + " " + template
                        + " cannot be '" + value + "' (not a path segment)");
            }
            m.appendReplacement(out, Matcher.quoteReplacement(encodeSegment(value)));
            i++;
        }
        m.appendTail(out);
        return out.toString();
    }

    /**
     * The path an {@code execute-api:Invoke} grant names for the nodes of {@code stanza}: the
     * stanza in place, every other variable a wildcard ({@code /stanzas/main/jobs/*}{@code /claim}).
     */
    public String grantPath(String stanza) {
        Matcher m = Templates.VARIABLE.matcher(template);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            m.appendReplacement(out, Matcher.quoteReplacement(m.group(1).equals("stanza") ? stanza : "*"));
        }
        m.appendTail(out);
        return out.toString();
    }

    /** The route of {@code method} on {@code template}, if the API has one. */
    public static Optional<ApiRoute> find(String method, String template) {
        for (ApiRoute r : values()) {
            if (r.method.equalsIgnoreCase(String.valueOf(method)) && r.template.equals(template)) {
                return Optional.of(r);
            }
        }
        return Optional.empty();
    }

    /**
     * The methods the API serves on {@code template}, comma-separated in table order (an HTTP
     * {@code Allow} header); empty when the API has no such resource.
     */
    public static String allowedOn(String template) {
        List<String> methods = new ArrayList<>();
        for (ApiRoute r : values()) {
            if (r.template.equals(template)) {
                methods.add(r.method);
            }
        }
        return String.join(", ", methods);
    }

    /** Holds the pattern: an enum's constructor cannot read the enum's own static fields. */
    private static final class Templates {
        static final Pattern VARIABLE = Pattern.compile("\\{([A-Za-z0-9_]+)}");
    }

    private static String encodeSegment(String value) {
        byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream out = new ByteArrayOutputStream(bytes.length);
        for (byte b : bytes) {
            int c = b & 0xff;
            boolean unreserved = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
                    || c == '-' || c == '.' || c == '_' || c == '~';
            if (unreserved) {
                out.write(c);
            } else {
                out.writeBytes(String.format("%%%02X", c).getBytes(StandardCharsets.US_ASCII));
            }
        }
        return out.toString(StandardCharsets.US_ASCII);
    }
}
