package io.tidemark.functions.aws;

import io.tidemark.functions.runtime.AwsClients;
import io.tidemark.functions.runtime.FunctionConfig;
import io.tidemark.functions.verify.VerifyDispatch;
import io.tidemark.functions.verify.VerifyEvent;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * {@link VerifyDispatch} in AWS: an asynchronous invoke of the verify function's alias, named by
 * {@value #FUNCTION} (set by the CDK stack on the verify function itself and on the API function
 * that starts runs). Anything but 202 throws: the run is then marked failed with Lambda's answer.
 */
public final class LambdaVerifyDispatch implements VerifyDispatch {

    /** The verify function (name or ARN, with its alias). */
    public static final String FUNCTION = "TIDEMARK_VERIFY_FUNCTION";

    private final LambdaAsyncInvoke invoke;

    public LambdaVerifyDispatch(LambdaAsyncInvoke invoke) {
        this.invoke = invoke;
    }

    /** The dispatch {@value #FUNCTION} names; without it, one that refuses with a message saying so. */
    public static VerifyDispatch fromConfig(FunctionConfig config, AwsClients aws) {
        return config.setting(FUNCTION).filter(f -> !f.isBlank())
                .<VerifyDispatch>map(f -> new LambdaVerifyDispatch(new LambdaAsyncInvoke(aws.httpClient(),
                        aws.credentialsProvider(), config.region(), f, null)))
                .orElse(event -> {
                    throw new IllegalStateException(FUNCTION + " is not set: this function cannot start verify "
                            + "batches");
                });
    }

    @Override
    public void dispatch(VerifyEvent event) {
        int status;
        try {
            status = invoke.invoke(event.json());
        } catch (IOException e) {
            throw new UncheckedIOException("invoking " + invoke.function() + " failed: " + e.getMessage(), e);
        }
        if (status != 202) {
            throw new IllegalStateException("invoking " + invoke.function() + " asynchronously: Lambda answered HTTP "
                    + status);
        }
    }
}
