package io.tidemark.shim.agent;

/** A message received from the job queue: the handle to act on it with, and its body. */
public record ReceivedJob(String messageId, String receiptHandle, int receiveCount, String body) {
}
