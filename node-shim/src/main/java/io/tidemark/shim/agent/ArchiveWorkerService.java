package io.tidemark.shim.agent;

import io.tidemark.shim.archivepush.async.ArchiveWorker;
import java.io.PrintStream;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The asynchronous archive worker as one of the agent's services ({@code archive-push.async=true}).
 * A detached worker that archive-push started before the agent may hold the spool's lock; it
 * leaves when idle, so this service retries until it holds the lock itself. While the agent's
 * worker runs, archive-push starts none (the lock is taken) and answers from the spool.
 */
final class ArchiveWorkerService implements AgentService {
    static final Duration LOCK_RETRY = Duration.ofSeconds(5);

    private final ArchiveWorker worker;
    private final PrintStream out;
    private final CountDownLatch stopped = new CountDownLatch(1);

    ArchiveWorkerService(ArchiveWorker worker, PrintStream out) {
        this.worker = worker;
        this.out = out;
    }

    @Override
    public String name() {
        return "archive-push-worker";
    }

    @Override
    public void run() throws InterruptedException {
        boolean said = false;
        while (!worker.start()) {
            if (!said) {
                out.println(Instant.now() + " tidemark agent: another archive-push worker holds the spool;"
                        + " taking over when it leaves");
                said = true;
            }
            if (stopped.await(LOCK_RETRY.toMillis(), TimeUnit.MILLISECONDS)) {
                return;
            }
        }
        out.println(Instant.now() + " tidemark agent: archive-push worker running");
        stopped.await();
        worker.stop();
    }

    @Override
    public void stop() {
        stopped.countDown();
    }

    long pushed() {
        return worker.pushed();
    }
}
