package io.tidemark.functions.aws;

import io.tidemark.functions.runtime.AwsClients;
import io.tidemark.functions.runtime.FunctionConfig;
import io.tidemark.functions.verify.VerifyDispatch;
import io.tidemark.functions.verify.VerifyEvent;
import java.nio.charset.StandardCharsets;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.sqs.SqsClient;

/**
 * {@link VerifyDispatch} in AWS: one SQS message per event on the verify queue, named by
 * {@value #QUEUE} (set by the CDK stack on the verify function and on the API function that starts
 * runs). The queue is the verify function's event source (one message per invocation, a bounded
 * number at once, redelivered when an invocation fails, then parked in its dead-letter queue).
 * A queue rather than an asynchronous self-invoke: a function cannot name its own alias in its
 * configuration without a circular dependency, and the queue bounds the fan-out's concurrency.
 * A send that fails throws: the run is then marked failed with the reason.
 */
public final class SqsVerifyDispatch implements VerifyDispatch {

    /** The verify queue's URL. */
    public static final String QUEUE = "TIDEMARK_VERIFY_QUEUE";

    private final SqsClient sqs;
    private final String url;

    public SqsVerifyDispatch(SqsClient sqs, String url) {
        this.sqs = sqs;
        this.url = url;
    }

    /** The dispatch {@value #QUEUE} names; without it, one that refuses with a message saying so. */
    public static VerifyDispatch fromConfig(FunctionConfig config, AwsClients aws) {
        return config.setting(QUEUE).filter(q -> !q.isBlank())
                .<VerifyDispatch>map(q -> new SqsVerifyDispatch(aws.sqs(), q))
                .orElse(event -> {
                    throw new IllegalStateException(QUEUE + " is not set: this function cannot start verify work");
                });
    }

    @Override
    public void dispatch(VerifyEvent event) {
        try {
            sqs.sendMessage(b -> b.queueUrl(url).messageBody(new String(event.json(), StandardCharsets.UTF_8)));
        } catch (SdkException e) {
            throw new IllegalStateException("cannot send to the verify queue " + url + ": " + e.getMessage(), e);
        }
    }
}
