package io.tidemark.localcloud;

import com.amazonaws.services.lambda.runtime.RequestStreamHandler;
import io.tidemark.functions.runtime.FunctionConfig;

/**
 * Builds one function instance, the way the Lambda runtime would at cold start, with the
 * configuration local-cloud hands it (local endpoints, bucket, table, static credentials).
 */
@FunctionalInterface
public interface HandlerFactory {

    RequestStreamHandler create(FunctionConfig config) throws Exception;

    /** A factory that ignores the configuration and always gives {@code handler}. */
    static HandlerFactory of(RequestStreamHandler handler) {
        return config -> handler;
    }
}
