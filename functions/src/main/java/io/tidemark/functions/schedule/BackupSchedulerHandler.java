package io.tidemark.functions.schedule;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestStreamHandler;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.tidemark.functions.aws.DynamoDbCatalogStore;
import io.tidemark.functions.aws.SqsJobDelivery;
import io.tidemark.functions.job.JobDelivery;
import io.tidemark.functions.runtime.AwsClients;
import io.tidemark.functions.runtime.FunctionConfig;
import io.tidemark.functions.runtime.FunctionLog;
import io.tidemark.functions.runtime.SnapStartHooks;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;

/**
 * The backup schedule's target (EventBridge Scheduler in AWS, local-cloud's scheduler on one
 * machine). Input: {@link ScheduleInput} JSON; output: {@code {"jobId", "stanza", "type",
 * "reason", "deadline"}}. A bad input or an unknown stanza fails the invocation with a message
 * saying what and why.
 */
public final class BackupSchedulerHandler implements RequestStreamHandler, AutoCloseable {

    private final AwsClients aws;
    private final BackupScheduler scheduler;
    private final SnapStartHooks snapStart;

    public BackupSchedulerHandler() {
        this(FunctionConfig.fromEnvironment());
    }

    /** In AWS: jobs go to the stanza's SQS queue from {@value FunctionConfig#JOB_QUEUES}. */
    public BackupSchedulerHandler(FunctionConfig config) {
        this.aws = AwsClients.create(config);
        JobDelivery delivery = new SqsJobDelivery(aws.sqs(),
                SqsJobDelivery.parseQueues(config.setting(FunctionConfig.JOB_QUEUES).orElse(null)));
        this.scheduler = new BackupScheduler(new DynamoDbCatalogStore(aws.dynamoDb(), config.table()), delivery,
                Clock.systemUTC());
        this.snapStart = SnapStartHooks.register(aws, BackupSchedulerHandler::prime);
    }

    /** Any delivery (local-cloud's in-process queues). */
    public BackupSchedulerHandler(FunctionConfig config, JobDelivery delivery) {
        this.aws = AwsClients.create(config);
        this.scheduler = new BackupScheduler(new DynamoDbCatalogStore(aws.dynamoDb(), config.table()), delivery,
                Clock.systemUTC());
        this.snapStart = SnapStartHooks.register(aws, BackupSchedulerHandler::prime);
    }

    /** SnapStart priming: parse a schedule input and decide on an empty catalog; no service call. */
    static void prime() {
        ScheduleInput in = ScheduleInput.parse("{\"stanza\":\"priming\",\"fullIntervalDays\":7}"
                .getBytes(StandardCharsets.UTF_8));
        BackupDecision.decide(in.type(), in.fullIntervalDays(), java.util.List.of(), java.time.Instant.now());
    }

    SnapStartHooks snapStart() {
        return snapStart;
    }

    @Override
    public void handleRequest(InputStream input, OutputStream output, Context context) throws IOException {
        try (FunctionLog.Invocation log = FunctionLog.begin(context)) {
            schedule(input, output);
        }
    }

    private void schedule(InputStream input, OutputStream output) throws IOException {
        ScheduleInput in = ScheduleInput.parse(input.readAllBytes());
        FunctionLog.stanza(String.valueOf(in.stanza()));
        BackupScheduler.Scheduled s = scheduler.schedule(in);
        System.getLogger(BackupSchedulerHandler.class.getName()).log(System.Logger.Level.INFO,
                "stanza " + in.stanza() + ": job " + s.job().id() + " (" + s.decision().type() + ": "
                        + s.decision().reason() + ")");
        String out = JsonNodeFactory.instance.objectNode()
                .put("jobId", s.job().id())
                .put("stanza", s.job().stanza())
                .put("type", s.decision().type())
                .put("reason", s.decision().reason())
                .put("deadline", s.job().deadline().toString())
                .toString();
        output.write(out.getBytes(StandardCharsets.UTF_8));
        output.flush();
    }

    @Override
    public void close() {
        aws.close();
    }
}
