package io.tidemark.shim.support;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestStreamHandler;
import io.tidemark.functions.runtime.ApiGatewayProxy;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;

/**
 * Test-only stand-in for the planner's routes, answering what each test sets:
 * {@code POST /stanzas/{stanza}/restore-plans} ({@link #onPost}, given the request body) and
 * {@code GET /restore-plans/{id}/urls} ({@link #onUrls}, given the plan id).
 */
public final class FakePlanner implements RequestStreamHandler {
    public volatile Function<String, ApiGatewayProxy.Response> onPost =
            body -> ApiGatewayProxy.Response.message(404, "no plan set up");
    public volatile Function<String, ApiGatewayProxy.Response> onUrls =
            id -> ApiGatewayProxy.Response.message(404, "no plan " + id);
    public final List<String> calls = new CopyOnWriteArrayList<>();

    @Override
    public void handleRequest(InputStream input, OutputStream output, Context context) {
        ApiGatewayProxy.Request req = ApiGatewayProxy.readRequest(input);
        ApiGatewayProxy.Response resp;
        if (req.pathParameter("id").isPresent()) {
            String id = req.pathParameter("id").get();
            calls.add("GET urls " + id);
            resp = onUrls.apply(id);
        } else {
            String stanza = req.pathParameter("stanza").orElse("");
            calls.add("POST " + stanza + " " + req.body());
            resp = onPost.apply(req.body());
        }
        ApiGatewayProxy.writeResponse(resp, output);
    }

    public void reset() {
        onPost = body -> ApiGatewayProxy.Response.message(404, "no plan set up");
        onUrls = id -> ApiGatewayProxy.Response.message(404, "no plan " + id);
        calls.clear();
    }
}
