package io.tidemark.e2e.localstack;

import io.tidemark.e2e.ExternalStorage;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.Assumptions;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.localstack.LocalStackContainer;
import org.testcontainers.utility.DockerImageName;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.Event;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.QueueAttributeName;

/**
 * LocalStack (S3, DynamoDB, SQS) in a container, for the e2e tests: the bucket's ObjectCreated
 * notifications go to an SQS queue (as S3 would send them), and a bridge thread long-polls it
 * and hands each message body, the S3 event JSON, to local-cloud, which runs the real handlers
 * on it in-process. A message is deleted only after local-cloud took it; otherwise SQS delivers
 * it again after its visibility timeout.
 */
public final class LocalStackStorage implements ExternalStorage {

    static final String SKIP = "LocalStack e2e tests skipped: no Docker engine reachable (-Plocalstack needs Docker)";
    private static final AtomicBoolean SKIP_SAID = new AtomicBoolean();
    private static final String QUEUE = "tidemark-s3-events";

    private LocalStackContainer container;
    private SqsClient sqs;
    private String queueUrl;
    private Thread bridge;
    private final AtomicBoolean running = new AtomicBoolean();
    private final AtomicInteger inFlight = new AtomicInteger();

    @Override
    public String name() {
        return "localstack";
    }

    @Override
    public void start() {
        if (!DockerClientFactory.instance().isDockerAvailable()) {
            if (SKIP_SAID.compareAndSet(false, true)) {
                System.out.println(SKIP);
            }
            Assumptions.abort(SKIP);
        }
        String image = System.getProperty("tidemark.localstack.image", "localstack/localstack:4.4");
        container = new LocalStackContainer(DockerImageName.parse(image)).withServices("s3", "dynamodb", "sqs");
        container.start();
    }

    @Override
    public URI s3Endpoint() {
        return container.getEndpoint();
    }

    @Override
    public URI dynamoDbEndpoint() {
        return container.getEndpoint();
    }

    @Override
    public void deliverEvents(String bucket, Function<byte[], Integer> deliver) {
        if (bridge != null) {
            return; // a restarted local-cloud: the queue and its bridge stay
        }
        var credentials = StaticCredentialsProvider.create(
                AwsBasicCredentials.create(container.getAccessKey(), container.getSecretKey()));
        Region region = Region.of(container.getRegion());
        sqs = SqsClient.builder().endpointOverride(container.getEndpoint()).region(region)
                .credentialsProvider(credentials).httpClient(UrlConnectionHttpClient.create()).build();
        queueUrl = sqs.createQueue(b -> b.queueName(QUEUE).attributes(Map.of(QueueAttributeName.VISIBILITY_TIMEOUT, "60")))
                .queueUrl();
        String queueArn = sqs.getQueueAttributes(b -> b.queueUrl(queueUrl).attributeNames(QueueAttributeName.QUEUE_ARN))
                .attributes().get(QueueAttributeName.QUEUE_ARN);
        try (S3Client s3 = S3Client.builder().endpointOverride(container.getEndpoint()).region(region)
                .credentialsProvider(credentials).forcePathStyle(true).httpClient(UrlConnectionHttpClient.create()).build()) {
            s3.putBucketNotificationConfiguration(b -> b.bucket(bucket).notificationConfiguration(n -> n
                    .queueConfigurations(q -> q.id("tidemark-functions").queueArn(queueArn)
                            .events(Event.S3_OBJECT_CREATED))));
        }
        running.set(true);
        bridge = Thread.ofPlatform().daemon().name("localstack-s3-events").start(() -> poll(deliver));
    }

    private void poll(Function<byte[], Integer> deliver) {
        while (running.get()) {
            try {
                for (Message m : sqs.receiveMessage(b -> b.queueUrl(queueUrl).waitTimeSeconds(1)
                        .maxNumberOfMessages(10)).messages()) {
                    inFlight.incrementAndGet();
                    try {
                        if (!m.body().contains("\"s3:TestEvent\"")) {
                            deliver.apply(m.body().getBytes(StandardCharsets.UTF_8));
                        }
                        sqs.deleteMessage(b -> b.queueUrl(queueUrl).receiptHandle(m.receiptHandle()));
                    } catch (RuntimeException e) {
                        System.err.println("LocalStack S3 event not handed over (SQS redelivers it): " + e);
                    } finally {
                        inFlight.decrementAndGet();
                    }
                }
            } catch (RuntimeException e) {
                if (running.get()) {
                    System.err.println("polling " + queueUrl + " failed: " + e);
                }
            }
        }
    }

    @Override
    public boolean awaitDelivered(Duration timeout) throws InterruptedException {
        if (sqs == null) {
            return true;
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        int quietChecks = 0;
        // S3 queues its notification after answering the PUT: the queue must stay empty for a
        // moment before it counts as drained.
        while (System.nanoTime() < deadline) {
            Map<QueueAttributeName, String> a = sqs.getQueueAttributes(b -> b.queueUrl(queueUrl).attributeNames(
                    QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES,
                    QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES_NOT_VISIBLE)).attributes();
            boolean empty = "0".equals(a.get(QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES))
                    && "0".equals(a.get(QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES_NOT_VISIBLE))
                    && inFlight.get() == 0;
            quietChecks = empty ? quietChecks + 1 : 0;
            if (quietChecks >= 4) {
                return true;
            }
            Thread.sleep(500);
        }
        return false;
    }

    @Override
    public void close() {
        running.set(false);
        if (bridge != null) {
            try {
                bridge.join(5_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (sqs != null) {
            sqs.close();
        }
        if (container != null) {
            container.stop();
        }
    }
}
