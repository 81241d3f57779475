package io.tidemark.functions.runtime;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.amazonaws.services.lambda.runtime.RequestStreamHandler;
import io.tidemark.events.api.ApiFunction;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The route table names its handlers by class name (events cannot see them): each must exist. */
@Tag("unit")
class ApiFunctionHandlersTest {

    @Test
    void everyApiFunctionNamesAStreamHandlerWithAnEnvironmentConstructor() throws Exception {
        for (ApiFunction f : ApiFunction.values()) {
            Class<?> c = Class.forName(f.handlerClass());
            assertTrue(RequestStreamHandler.class.isAssignableFrom(c), f + ": " + c + " is a RequestStreamHandler");
            c.getConstructor(); // Lambda instantiates it with no arguments
        }
    }
}
