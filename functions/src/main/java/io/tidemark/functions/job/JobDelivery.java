package io.tidemark.functions.job;

/**
 * Hands a recorded job to the nodes of its stanza: the stanza's SQS queue in AWS, local-cloud's
 * in-process queue on one machine. Delivery may be at least once; the catalog claim makes sure
 * one node runs the job.
 */
@FunctionalInterface
public interface JobDelivery {

    /**
     * Delivers {@link JobMessage#of(Job)}.
     *
     * @throws JobDeliveryException when the job could not be handed over (it is then marked failed)
     */
    void deliver(Job job);

    /** A job that could not be delivered; the message says where to and why. */
    final class JobDeliveryException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        public JobDeliveryException(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
