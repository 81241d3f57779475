package io.tidemark.localcloud;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestStreamHandler;
import io.tidemark.functions.runtime.FunctionConfig;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/** Test-only function: records the raw event JSON it is invoked with; can fail its first calls. */
final class RecordingHandler implements RequestStreamHandler {

    final List<String> events = new CopyOnWriteArrayList<>();
    final List<String> functionNames = new CopyOnWriteArrayList<>();
    final AtomicInteger calls = new AtomicInteger();
    volatile int failFirst;
    volatile FunctionConfig config;

    RecordingHandler() {
    }

    RecordingHandler(FunctionConfig config) {
        this.config = config;
    }

    @Override
    public void handleRequest(InputStream input, OutputStream output, Context context) throws IOException {
        int n = calls.incrementAndGet();
        String json = new String(input.readAllBytes(), StandardCharsets.UTF_8);
        if (n <= failFirst) {
            throw new IOException("simulated failure " + n);
        }
        events.add(json);
        functionNames.add(context.getFunctionName());
    }

    void clear() {
        events.clear();
        functionNames.clear();
        calls.set(0);
        failFirst = 0;
    }
}
