package io.tidemark.functions.aws;

import io.tidemark.events.layout.StanzaName;
import io.tidemark.functions.retain.RetentionTrigger;
import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.net.URI;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.http.SdkHttpClient;

/**
 * {@link RetentionTrigger} in AWS: an asynchronous Lambda Invoke ({@code X-Amz-Invocation-Type:
 * Event}) of the retention function's alias, named by {@value #FUNCTION} (a name or ARN with the
 * alias), through {@link LambdaAsyncInvoke}. Lambda answers 202 once the event is queued;
 * anything else is logged (the daily run catches up).
 */
public final class LambdaRetentionTrigger implements RetentionTrigger {

    /** The retention function (name or ARN, with its alias), set by the CDK stack. */
    public static final String FUNCTION = "TIDEMARK_RETENTION_FUNCTION";

    private static final Logger LOG = System.getLogger(LambdaRetentionTrigger.class.getName());

    private final LambdaAsyncInvoke invoke;

    public LambdaRetentionTrigger(SdkHttpClient http, AwsCredentialsProvider credentials, String region,
                                  String function, URI endpoint) {
        this.invoke = new LambdaAsyncInvoke(http, credentials, region, function, endpoint);
    }

    /** The trigger {@value #FUNCTION} names, or {@link RetentionTrigger#NONE} when it is not set. */
    public static RetentionTrigger fromConfig(io.tidemark.functions.runtime.FunctionConfig config,
                                              io.tidemark.functions.runtime.AwsClients aws) {
        return config.setting(FUNCTION).filter(f -> !f.isBlank())
                .<RetentionTrigger>map(f -> new LambdaRetentionTrigger(aws.httpClient(), aws.credentialsProvider(),
                        config.region(), f, null))
                .orElse(RetentionTrigger.NONE);
    }

    @Override
    public void backupValid(StanzaName stanza, String label) {
        try {
            int status = invoke.invoke(RetentionTrigger.event(stanza));
            if (status != 202) {
                LOG.log(Level.WARNING, "retention of stanza {0} after backup {1}: Lambda answered {2}",
                        stanza, label, status);
            }
        } catch (IOException | RuntimeException e) {
            LOG.log(Level.WARNING, "retention of stanza " + stanza + " after backup " + label
                    + " not started (the daily run will do it)", e);
        }
    }
}
