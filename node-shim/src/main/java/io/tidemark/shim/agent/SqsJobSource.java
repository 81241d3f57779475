package io.tidemark.shim.agent;

import io.tidemark.shim.config.ShimConfig;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import io.tidemark.shim.storage.CredentialSource;
import io.tidemark.shim.storage.SdkCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.MessageSystemAttributeName;
import software.amazon.awssdk.services.sqs.model.ReceiveMessageResponse;

/**
 * The stanza's SQS job queue (stack output {@code JobQueueUrl-<stanza>}), received from with the
 * node's own credentials: the node policy allows ReceiveMessage, DeleteMessage and
 * ChangeMessageVisibility on that queue only, asked of the same {@link CredentialSource} as
 * every other request (refreshing sources renew keys while the agent runs for months).
 */
public final class SqsJobSource implements JobSource {

    private final SqsClient sqs;
    private final String queueUrl;

    public SqsJobSource(ShimConfig config, java.util.Map<String, String> env, String queueUrl) {
        this.queueUrl = queueUrl;
        // a provider asked per request (CredentialSource): the agent polls for months
        AwsCredentialsProvider credentials = SdkCredentials.provider(CredentialSource.of(config, env));
        this.sqs = SqsClient.builder()
                .region(Region.of(regionOf(queueUrl).orElse(config.apiRegion())))
                .credentialsProvider(credentials)
                .httpClient(UrlConnectionHttpClient.builder().socketTimeout(Duration.ofSeconds(40)).build())
                .build();
    }

    /** {@code https://sqs.<region>.amazonaws.com/<account>/<name>}: the queue's region. */
    static Optional<String> regionOf(String queueUrl) {
        String host = URI.create(queueUrl).getHost();
        if (host != null && host.startsWith("sqs.") && host.split("\\.").length >= 4) {
            return Optional.of(host.split("\\.")[1]);
        }
        return Optional.empty();
    }

    @Override
    public Optional<ReceivedJob> receive(Duration wait, Duration visibility) {
        ReceiveMessageResponse r = sqs.receiveMessage(b -> b.queueUrl(queueUrl).maxNumberOfMessages(1)
                .waitTimeSeconds((int) Math.min(20, wait.toSeconds()))
                .visibilityTimeout((int) visibility.toSeconds())
                .messageSystemAttributeNames(List.of(MessageSystemAttributeName.APPROXIMATE_RECEIVE_COUNT)));
        if (!r.hasMessages() || r.messages().isEmpty()) {
            return Optional.empty();
        }
        Message m = r.messages().get(0);
        int count = 1;
        try {
            count = Integer.parseInt(m.attributes().getOrDefault(MessageSystemAttributeName.APPROXIMATE_RECEIVE_COUNT, "1"));
        } catch (NumberFormatException e) {
            // keep 1
        }
        return Optional.of(new ReceivedJob(m.messageId(), m.receiptHandle(), count, m.body()));
    }

    @Override
    public void changeVisibility(ReceivedJob job, Duration visibility) {
        sqs.changeMessageVisibility(b -> b.queueUrl(queueUrl).receiptHandle(job.receiptHandle())
                .visibilityTimeout((int) visibility.toSeconds()));
    }

    @Override
    public void delete(ReceivedJob job) {
        sqs.deleteMessage(b -> b.queueUrl(queueUrl).receiptHandle(job.receiptHandle()));
    }

    @Override
    public String describe() {
        return "SQS queue " + queueUrl;
    }

    @Override
    public void close() {
        sqs.close();
    }
}
