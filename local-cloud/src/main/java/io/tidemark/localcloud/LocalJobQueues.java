package io.tidemark.localcloud;

import io.tidemark.functions.job.Job;
import io.tidemark.functions.job.JobDelivery;
import io.tidemark.functions.job.JobMessage;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The local stand-in for the stanzas' SQS job queues, in memory: what the backup scheduler
 * delivers and the agents receive (through {@link LocalJobQueueHandler}). The semantics the agent
 * relies on are SQS's: a received message is invisible for a visibility timeout and comes back
 * unless deleted; each receive gives a new receipt handle and only the newest one works; a
 * receive long-polls up to its wait time. Messages older than the retention (1 day, as the CDK
 * queues) are dropped. Not kept across restarts (a job whose message is lost is settled as
 * missed at its deadline).
 */
public final class LocalJobQueues implements JobDelivery {

    static final Duration RETENTION = Duration.ofDays(1);

    /** A received message. */
    public record Received(String messageId, String receiptHandle, String body, int receiveCount) {
    }

    private static final class Message {
        final String id = UUID.randomUUID().toString();
        final String body;
        final Instant sentAt;
        Instant visibleAt;
        String receipt;
        int receiveCount;

        Message(String body, Instant sentAt) {
            this.body = body;
            this.sentAt = sentAt;
            this.visibleAt = sentAt;
        }
    }

    private final Clock clock;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final Map<String, List<Message>> queues = new HashMap<>();

    public LocalJobQueues() {
        this(Clock.systemUTC());
    }

    LocalJobQueues(Clock clock) {
        this.clock = clock;
    }

    @Override
    public void deliver(Job job) {
        send(job.stanza(), JobMessage.of(job));
    }

    public void send(String stanza, String body) {
        lock.lock();
        try {
            queues.computeIfAbsent(stanza, k -> new ArrayList<>()).add(new Message(body, clock.instant()));
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Waits up to {@code wait} for a visible message; it is then invisible for {@code visibility}. */
    public Optional<Received> receive(String stanza, Duration wait, Duration visibility) throws InterruptedException {
        long deadline = System.nanoTime() + wait.toNanos();
        lock.lock();
        try {
            while (true) {
                Instant now = clock.instant();
                List<Message> q = queues.computeIfAbsent(stanza, k -> new ArrayList<>());
                q.removeIf(m -> m.sentAt.plus(RETENTION).isBefore(now));
                Instant nextVisible = null;
                for (Message m : q) {
                    if (!m.visibleAt.isAfter(now)) {
                        m.visibleAt = now.plus(visibility);
                        m.receipt = UUID.randomUUID().toString();
                        m.receiveCount++;
                        return Optional.of(new Received(m.id, m.receipt, m.body, m.receiveCount));
                    }
                    nextVisible = nextVisible == null || m.visibleAt.isBefore(nextVisible) ? m.visibleAt : nextVisible;
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return Optional.empty();
                }
                if (nextVisible != null) {
                    left = Math.min(left, Math.max(1, Duration.between(now, nextVisible).toNanos()));
                }
                changed.await(left, TimeUnit.NANOSECONDS);
            }
        } finally {
            lock.unlock();
        }
    }

    /** SQS ChangeMessageVisibility: visible again after {@code visibility} (zero: now). False when the handle is not current. */
    public boolean changeVisibility(String stanza, String receiptHandle, Duration visibility) {
        lock.lock();
        try {
            Message m = byReceipt(stanza, receiptHandle);
            if (m == null) {
                return false;
            }
            m.visibleAt = clock.instant().plus(visibility);
            changed.signalAll();
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** SQS DeleteMessage. False when the handle is not current (already deleted, or received again since). */
    public boolean delete(String stanza, String receiptHandle) {
        lock.lock();
        try {
            Message m = byReceipt(stanza, receiptHandle);
            return m != null && queues.get(stanza).remove(m);
        } finally {
            lock.unlock();
        }
    }

    /** Messages in the queue of {@code stanza}, visible or not (tests, logs). */
    public int size(String stanza) {
        lock.lock();
        try {
            return queues.getOrDefault(stanza, List.of()).size();
        } finally {
            lock.unlock();
        }
    }

    private Message byReceipt(String stanza, String receiptHandle) {
        for (Message m : queues.getOrDefault(stanza, List.of())) {
            if (receiptHandle != null && receiptHandle.equals(m.receipt)) {
                return m;
            }
        }
        return null;
    }
}
