package io.tidemark.localcloud;

import com.amazonaws.services.lambda.runtime.ClientContext;
import com.amazonaws.services.lambda.runtime.CognitoIdentity;
import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.LambdaLogger;
import com.amazonaws.services.lambda.runtime.RequestStreamHandler;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The Lambda {@link Context} of one local invocation; the function's log goes to SLF4J. */
final class LocalLambdaContext implements Context {

    static final String ACCOUNT_ID = "000000000000";

    private final String functionName;
    private final String region;
    private final String requestId = UUID.randomUUID().toString();
    private final long deadlineNanos;
    private final LambdaLogger logger;

    LocalLambdaContext(String functionName, String region, Duration timeout) {
        this.functionName = functionName;
        this.region = region;
        this.deadlineNanos = System.nanoTime() + timeout.toNanos();
        Logger log = LoggerFactory.getLogger("tidemark.function." + functionName);
        this.logger = new LambdaLogger() {
            @Override
            public void log(String message) {
                log.info("{} {}", requestId, message.stripTrailing());
            }

            @Override
            public void log(byte[] message) {
                log(new String(message, StandardCharsets.UTF_8));
            }
        };
    }

    /**
     * Invokes one function instance. Like a Lambda execution environment, an instance handles
     * one event at a time: calls on the same handler object are serialized (except a
     * {@link ConcurrentHandler}, which stands in for a service, not a function).
     */
    static byte[] invoke(RequestStreamHandler handler, byte[] event, Context context) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        if (handler instanceof ConcurrentHandler) {
            handler.handleRequest(new ByteArrayInputStream(event), out, context);
            return out.toByteArray();
        }
        synchronized (handler) {
            handler.handleRequest(new ByteArrayInputStream(event), out, context);
        }
        return out.toByteArray();
    }

    @Override
    public String getAwsRequestId() {
        return requestId;
    }

    @Override
    public String getLogGroupName() {
        return "/aws/lambda/" + functionName;
    }

    @Override
    public String getLogStreamName() {
        return "local/[$LATEST]local";
    }

    @Override
    public String getFunctionName() {
        return functionName;
    }

    @Override
    public String getFunctionVersion() {
        return "$LATEST";
    }

    @Override
    public String getInvokedFunctionArn() {
        return "arn:aws:lambda:" + region + ":" + ACCOUNT_ID + ":function:" + functionName;
    }

    @Override
    public CognitoIdentity getIdentity() {
        return null;
    }

    @Override
    public ClientContext getClientContext() {
        return null;
    }

    @Override
    public int getRemainingTimeInMillis() {
        long left = Math.max(0, deadlineNanos - System.nanoTime()) / 1_000_000;
        return (int) Math.min(Integer.MAX_VALUE, left);
    }

    @Override
    public int getMemoryLimitInMB() {
        return 1024;
    }

    @Override
    public LambdaLogger getLogger() {
        return logger;
    }
}
