package io.tidemark.localcloud;

import com.amazonaws.services.lambda.runtime.Context;
import io.tidemark.events.metrics.TidemarkMetric;
import io.tidemark.functions.runtime.ApiGatewayProxy;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * {@code GET /local/metrics[?name=ArchiveLagSeconds][&stanza=main]}: the data points local-cloud
 * collected from the functions ({@link LocalMetrics}), read-only, as {@code {"points": [{"function",
 * "namespace", "name", "unit", "dimensions", "value", "timestamp"}], "rejected": n}}. Local-cloud
 * only (in AWS the metrics are in CloudWatch); served concurrently like a service.
 */
final class LocalMetricsHandler implements ConcurrentHandler {

    static final String RESOURCE = "/local/metrics";

    private final LocalMetrics metrics;

    LocalMetricsHandler(LocalMetrics metrics) {
        this.metrics = metrics;
    }

    @Override
    public void handleRequest(InputStream input, OutputStream output, Context context) {
        ApiGatewayProxy.serve(input, output, this::handle, "metrics request");
    }

    ApiGatewayProxy.Response handle(ApiGatewayProxy.Request request) {
        if (!"GET".equalsIgnoreCase(request.httpMethod())) {
            return ApiGatewayProxy.Response.message(405, "only GET " + RESOURCE);
        }
        String name = request.queryParameter("name").orElse(null);
        String stanza = request.queryParameter("stanza").orElse(null);
        return ApiGatewayProxy.Response.json(200, metrics.toJson(name, TidemarkMetric.DIMENSION, stanza));
    }
}
