package io.tidemark.shim.agent;

import java.time.Duration;
import java.util.Optional;

/**
 * Where the agent receives its stanza's jobs, with SQS semantics: a received message is invisible
 * for the visibility timeout and comes back unless deleted. The stanza's SQS queue in AWS
 * ({@link SqsJobSource}), local-cloud's in-process queue through its API ({@link LocalQueueSource}).
 */
public sealed interface JobSource extends AutoCloseable permits SqsJobSource, LocalQueueSource {

    /** Long-polls up to {@code wait}; the message is then invisible to others for {@code visibility}. */
    Optional<ReceivedJob> receive(Duration wait, Duration visibility);

    /** Visible again after {@code visibility} (a replica leaving it; the runner extending it). */
    void changeVisibility(ReceivedJob job, Duration visibility);

    void delete(ReceivedJob job);

    /** For the log: which queue. */
    String describe();

    @Override
    default void close() {
    }
}
