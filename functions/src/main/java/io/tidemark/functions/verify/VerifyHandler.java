package io.tidemark.functions.verify;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestStreamHandler;
import io.tidemark.functions.aws.DynamoDbCatalogStore;
import io.tidemark.functions.aws.SqsVerifyDispatch;
import io.tidemark.functions.aws.S3ObjectStore;
import io.tidemark.functions.runtime.AwsClients;
import io.tidemark.functions.metrics.EmfMetrics;
import io.tidemark.functions.metrics.MetricsPublisher;
import io.tidemark.functions.runtime.FunctionConfig;
import io.tidemark.functions.runtime.FunctionLog;
import io.tidemark.functions.runtime.SnapStartHooks;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.List;

/**
 * The verify function: the daily schedule's event ({@code {"stanza": ...}}) starts and plans a
 * run; messages of the verify queue (an SQS event, {@code {"Records": [{"body": ...}]}}, each body a
 * {@link VerifyEvent}) plan a run the API created and check one batch each. The answer is the run
 * as JSON. Bad input fails the invocation with a message naming the field; so does an unknown
 * stanza; a failed record fails the invocation, so SQS delivers it again (the work is idempotent).
 *
 * <p>Settings: {@value #PARALLELISM} (objects downloaded and hashed at once by one batch, default
 * {@value #DEFAULT_PARALLELISM}); {@value SqsVerifyDispatch#QUEUE} (the queue the
 * fan-out sends to).
 */
public final class VerifyHandler implements RequestStreamHandler, AutoCloseable {

    public static final String PARALLELISM = "TIDEMARK_VERIFY_PARALLELISM";
    public static final int DEFAULT_PARALLELISM = 8;

    static final byte[] PRIMING_EVENT = ("{\"stanza\": \"priming\", \"run\": \"20260101T000000Z-00000000\", "
            + "\"step\": \"batch\", \"batch\": 1}").getBytes(StandardCharsets.UTF_8);

    private final AwsClients aws;
    private final VerifyService service;
    private final SnapStartHooks snapStart;

    public VerifyHandler() {
        this(FunctionConfig.fromEnvironment());
    }

    public VerifyHandler(FunctionConfig config) {
        this(config, null);
    }

    /** @param dispatch how batches are started; null: {@link SqsVerifyDispatch#fromConfig} */
    public VerifyHandler(FunctionConfig config, VerifyDispatch dispatch) {
        this(config, dispatch, EmfMetrics.standardOut());
    }

    /** @param metrics where each whole-stanza run's metrics go (local-cloud: its collector) */
    public VerifyHandler(FunctionConfig config, VerifyDispatch dispatch, MetricsPublisher metrics) {
        this.aws = AwsClients.create(config);
        this.service = service(config, aws, dispatch, metrics);
        this.snapStart = SnapStartHooks.register(aws, this::prime);
    }

    static VerifyService service(FunctionConfig config, AwsClients aws, VerifyDispatch dispatch,
                                 MetricsPublisher metrics) {
        int parallelism = config.setting(PARALLELISM).map(Integer::parseInt).orElse(DEFAULT_PARALLELISM);
        return new VerifyService(new DynamoDbCatalogStore(aws.dynamoDb(), config.table()),
                new S3ObjectStore(aws.s3(), config.bucket()),
                dispatch != null ? dispatch : SqsVerifyDispatch.fromConfig(config, aws), Clock.systemUTC(),
                parallelism, metrics);
    }

    /** SnapStart priming: parse a batch event and render a run (no S3 or DynamoDB call). */
    void prime() {
        VerifyEvent e = VerifyEvent.parse(PRIMING_EVENT);
        VerifyJson.run(VerifyRun.planning(e.stanza(), null, java.time.Instant.EPOCH), List.of()).toString();
    }

    SnapStartHooks snapStart() {
        return snapStart;
    }

    @Override
    public void handleRequest(InputStream input, OutputStream output, Context context) throws IOException {
        try (FunctionLog.Invocation log = FunctionLog.begin(context)) {
            handleEvent(input, output);
        }
    }

    private void handleEvent(InputStream input, OutputStream output) throws IOException {
        byte[] bytes = input.readAllBytes();
        com.fasterxml.jackson.databind.JsonNode root;
        try {
            root = VerifyEvent.MAPPER.readTree(bytes);
        } catch (IOException e) {
            root = null; // VerifyEvent.parse says what is wrong
        }
        if (root != null && root.has("Records")) {
            StringBuilder answers = new StringBuilder("[");
            for (com.fasterxml.jackson.databind.JsonNode r : root.get("Records")) {
                answers.append(answers.length() > 1 ? "," : "")
                        .append(handle(VerifyEvent.parse(r.path("body").asText().getBytes(StandardCharsets.UTF_8))));
            }
            output.write(answers.append(']').toString().getBytes(StandardCharsets.UTF_8));
            return;
        }
        output.write(handle(VerifyEvent.parse(bytes)).getBytes(StandardCharsets.UTF_8));
    }

    private String handle(VerifyEvent event) {
        FunctionLog.stanza(event.stanza().value());
        return switch (event) {
            case VerifyEvent.Start s -> VerifyJson.run(service.startAndPlan(s.stanza(), s.backup()), List.of())
                    .toString();
            case VerifyEvent.Plan p -> {
                service.plan(p.stanza(), p.run());
                yield runJson(p.stanza(), p.run());
            }
            case VerifyEvent.Batch b -> {
                service.batch(b.stanza(), b.run(), b.batch());
                yield runJson(b.stanza(), b.run());
            }
        };
    }

    private String runJson(io.tidemark.events.layout.StanzaName stanza, String id) {
        return service.run(stanza, id).map(r -> VerifyJson.run(r, List.of()).toString()).orElse("{}");
    }

    @Override
    public void close() {
        aws.close();
    }
}
