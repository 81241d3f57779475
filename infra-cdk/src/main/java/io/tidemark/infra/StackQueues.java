package io.tidemark.infra;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import software.amazon.awscdk.Duration;
import software.amazon.awscdk.Stack;
import software.amazon.awscdk.services.sqs.DeadLetterQueue;
import software.amazon.awscdk.services.sqs.Queue;
import software.amazon.awscdk.services.sqs.QueueEncryption;

/**
 * The stack's queues: failed asynchronous invocations, one job queue (and dead-letter queue) per
 * stanza, and the verify fan-out with its dead letters. Created in the stack's own scope (not a
 * child construct), so the logical ids are those the stack always had.
 */
record StackQueues(Queue asyncFailures, Map<String, Queue> jobQueues, Map<String, Queue> jobDeadLetterQueues,
                   Queue verifyQueue, Queue verifyDeadLetters) {

    static StackQueues build(Stack stack, List<String> stanzas) {
        Map<String, Queue> jobQueues = new LinkedHashMap<>();
        Map<String, Queue> jobDeadLetterQueues = new LinkedHashMap<>();
        // Failed asynchronous invocations (S3 notifications, schedules) of every function, and
        // schedules that could not invoke their target at all.
        Queue asyncFailures = Queue.Builder.create(stack, "AsyncFailureQueue")
                .encryption(QueueEncryption.SQS_MANAGED)
                .enforceSsl(true)
                .retentionPeriod(Duration.days(14))
                .build();

        // One job queue per stanza: IAM can scope a node to its own queue (it cannot filter
        // ReceiveMessage by message attribute), and no node ever sees or holds another
        // stanza's job.
        for (String stanza : stanzas) {
            Queue dlq = Queue.Builder.create(stack, "JobDeadLetterQueue-" + stanza)
                    .encryption(QueueEncryption.SQS_MANAGED)
                    .enforceSsl(true)
                    .retentionPeriod(Duration.days(14))
                    .build();
            Queue queue = Queue.Builder.create(stack, "JobQueue-" + stanza)
                    .encryption(QueueEncryption.SQS_MANAGED)
                    .enforceSsl(true)
                    // The agent extends the visibility while a backup runs (ChangeMessageVisibility).
                    .visibilityTimeout(Duration.minutes(15))
                    .retentionPeriod(Duration.days(1))
                    .deadLetterQueue(DeadLetterQueue.builder().queue(dlq).maxReceiveCount(5).build())
                    .build();
            jobQueues.put(stanza, queue);
            jobDeadLetterQueues.put(stanza, dlq);
        }

        // The fan-out of verify runs: one message per plan and per batch, consumed by the verify
        // function a bounded number at a time (the runs' counters are one item each).
        Queue verifyDeadLetters = Queue.Builder.create(stack, "VerifyDeadLetterQueue")
                .encryption(QueueEncryption.SQS_MANAGED)
                .enforceSsl(true)
                .retentionPeriod(Duration.days(14))
                .build();
        Queue verifyQueue = Queue.Builder.create(stack, "VerifyQueue")
                .encryption(QueueEncryption.SQS_MANAGED)
                .enforceSsl(true)
                // At least the function's timeout (15 min): a batch still running is not handed out twice.
                .visibilityTimeout(Duration.minutes(16))
                .retentionPeriod(Duration.days(1))
                .deadLetterQueue(DeadLetterQueue.builder().queue(verifyDeadLetters).maxReceiveCount(3).build())
                .build();
        return new StackQueues(asyncFailures, jobQueues, jobDeadLetterQueues, verifyQueue, verifyDeadLetters);
    }
}
