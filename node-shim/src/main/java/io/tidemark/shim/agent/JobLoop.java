package io.tidemark.shim.agent;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tidemark.events.layout.StanzaName;
import io.tidemark.shim.api.CatalogApi;
import io.tidemark.shim.drill.DrillResult;
import io.tidemark.shim.drill.DrillSettings;
import io.tidemark.shim.pg.PgConnector;
import io.tidemark.shim.pg.PgOptions;
import java.io.PrintStream;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Receives the stanza's jobs and acts on each:
 * <ul>
 *   <li>past its deadline: deleted (the catalog settles it as missed or skipped-by-replica);</li>
 *   <li>on a replica ({@code pg_is_in_recovery()}): recorded as passed in the catalog and made
 *       visible again after {@link #LEAVE}; the replica then stays away from the queue for
 *       {@link #STEP_BACK_FIRST} ({@link #STEP_BACK_AGAIN} when it meets the same job again), so
 *       that the primary receives it next and the queue's receive count (5 before the dead-letter
 *       queue) is spent on the primary;</li>
 *   <li>PostgreSQL not reachable: left the same way, not recorded (this node cannot tell what it is);</li>
 *   <li>on the primary: claimed in the catalog; only a 200 runs the backup (a 409 means another node
 *       has it or it is over: the message is deleted). While the backup runs the message's
 *       visibility is extended; then the result is reported and the message deleted.</li>
 * </ul>
 * A job this agent already ran is never run again, whatever the queue delivers twice.
 *
 * <p>A drill job ({@code type: drill}) is decided by {@code drill.run} of tidemark.conf instead of
 * by the node's role alone: {@code never} leaves it for the other nodes (recorded as passed, like a
 * replica's backup job), {@code replica} claims it on a replica and leaves it on the primary,
 * {@code any} claims it whatever the node is (a spare host without PostgreSQL too). A claimed drill
 * runs {@code tidemark drill --now} ({@link DrillRunner}), which records the drill in the catalog;
 * the job's report then says done (the backup drilled) or failed (the failed checks).
 */
final class JobLoop implements AgentService {

    static final Duration WAIT = Duration.ofSeconds(10);
    static final Duration VISIBILITY = Duration.ofMinutes(15);
    static final Duration LEAVE = Duration.ofSeconds(5);
    static final Duration STEP_BACK_FIRST = Duration.ofSeconds(20);
    static final Duration STEP_BACK_AGAIN = Duration.ofMinutes(5);
    private static final Duration ERROR_PAUSE = Duration.ofSeconds(5);

    private final JobSource source;
    private final Supplier<CatalogApi> api;
    private final StanzaName stanza;
    private final PgOptions pg;
    private final BackupRunner runner;
    private final DrillRunner drills;
    private final DrillSettings.Run drillRun;
    private final String holder;
    private final AgentCounters counters;
    private final PrintStream log;
    private final Clock clock;
    private final Set<String> passed = Collections.newSetFromMap(new LinkedHashMap<>() {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Boolean> e) {
            return size() > 1000;
        }
    });
    private final Set<String> ran = Collections.newSetFromMap(new LinkedHashMap<>() {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Boolean> e) {
            return size() > 1000;
        }
    });
    private volatile boolean stopping;
    /** A replica that left a job keeps away from the queue until then (nanoTime). */
    private long receiveAfter = System.nanoTime();
    private volatile JobOrder running;

    JobLoop(JobSource source, Supplier<CatalogApi> api, StanzaName stanza, PgOptions pg, BackupRunner runner,
            DrillRunner drills, DrillSettings.Run drillRun, String holder, AgentCounters counters, PrintStream log,
            Clock clock) {
        this.drills = drills;
        this.drillRun = drillRun;
        this.source = source;
        this.api = api;
        this.stanza = stanza;
        this.pg = pg;
        this.runner = runner;
        this.holder = holder;
        this.counters = counters;
        this.log = log;
        this.clock = clock;
    }

    @Override
    public String name() {
        return "jobs";
    }

    /**
     * At shutdown: a backup still running is reported failed (the process is about to end and
     * takes the backup with it; the next backup resumes what it uploaded).
     */
    void abandonRunning(String why) {
        JobOrder order = running;
        if (order != null) {
            running = null;
            report(order, order.drill()
                    ? new DrillRunner.Drilled(Optional.empty(), Optional.empty(), "the agent was stopped while the drill ran;"
                    + " its next start stops its server, removes its scratch directory and records it as interrupted", 0)
                    : new BackupRunner.Failed(why, 0));
        }
    }

    /**
     * At the agent's start: the drill job a predecessor on this host was running when it died is
     * reported failed with why. The report is made in the dead agent's name (its holder: this host
     * and the process id its scratch marker kept), the only one the catalog takes it from; a job
     * already over (409) is left as it is.
     */
    void settleDeadDrill(String jobId, long deadPid, String why) {
        String dead = holder.substring(0, holder.lastIndexOf(':') + 1) + deadPid;
        ObjectNode body = JsonNodeFactory.instance.objectNode().put("holder", dead).put("result", "failed").put("error", why);
        CatalogApi.Response r = api.get().reportJob(stanza, jobId, body.toString());
        log.println("tidemark agent: job " + jobId + " (drill): " + (r.status() == 200 ? "reported FAILED: " + why
                : "not reported: HTTP " + r.status() + ": " + r.message()));
    }

    @Override
    public void run() throws InterruptedException {
        while (!stopping) {
            if (System.nanoTime() < receiveAfter) {
                Thread.sleep(200);
                continue;
            }
            Optional<ReceivedJob> received;
            try {
                received = source.receive(WAIT, VISIBILITY);
            } catch (RuntimeException e) {
                counters.receiveErrors.incrementAndGet();
                log.println("tidemark agent: cannot receive jobs from " + source.describe() + ": " + e.getMessage());
                pause();
                continue;
            }
            if (received.isPresent() && !stopping) {
                counters.received.incrementAndGet();
                try {
                    handle(received.get());
                } catch (RuntimeException e) {
                    log.println("tidemark agent: job message " + received.get().messageId() + ": " + e.getMessage()
                            + " (it comes back after its visibility timeout)");
                }
            } else if (received.isPresent()) {
                // Stopping: give it straight back.
                source.changeVisibility(received.get(), Duration.ZERO);
            }
        }
    }

    private void pause() throws InterruptedException {
        long until = System.nanoTime() + ERROR_PAUSE.toNanos();
        while (!stopping && System.nanoTime() < until) {
            Thread.sleep(200);
        }
    }

    void handle(ReceivedJob message) {
        JobOrder order;
        try {
            order = JobOrder.parse(message.body());
        } catch (IllegalArgumentException e) {
            log.println("tidemark agent: deleting a job message that is not a job (" + e.getMessage() + "): "
                    + message.body());
            source.delete(message);
            return;
        }
        if (!order.stanza().equals(stanza.value())) {
            log.println("tidemark agent: job " + order.jobId() + " is for stanza " + order.stanza() + ", this agent serves "
                    + stanza + ": left in the queue");
            source.changeVisibility(message, STEP_BACK_AGAIN);
            return;
        }
        if (ran.contains(order.jobId())) {
            source.delete(message);
            return;
        }
        if (!clock.instant().isBefore(order.deadline())) {
            log.println("tidemark agent: job " + order.jobId() + " is past its deadline " + order.deadline()
                    + ": not run (the catalog shows it as missed)");
            source.delete(message);
            return;
        }
        if (order.drill()) {
            handleDrill(order, message);
            return;
        }
        Optional<Boolean> primary = isPrimary();
        counters.primary = primary.map(p -> p ? 1 : 0).orElse(-1);
        if (primary.isEmpty()) {
            source.changeVisibility(message, LEAVE);
            stepBack(STEP_BACK_FIRST);
            return;
        }
        if (!primary.get()) {
            leaveForPrimary(order, message);
            return;
        }
        claimAndRun(order, message);
    }

    /** A drill job: claimed or left as {@code drill.run} says (see the class comment). */
    private void handleDrill(JobOrder order, ReceivedJob message) {
        switch (drillRun) {
            case NEVER -> leave(order, message, "drill.run is never on this node (tidemark.conf): left for a node allowed"
                    + " to drill");
            case ANY -> claimAndRun(order, message);
            case REPLICA -> {
                Optional<Boolean> primary = isPrimary();
                counters.primary = primary.map(p -> p ? 1 : 0).orElse(-1);
                if (primary.isEmpty()) {
                    source.changeVisibility(message, LEAVE);
                    stepBack(STEP_BACK_FIRST);
                } else if (primary.get()) {
                    leave(order, message, "this node is the primary and drill.run is replica: left for a replica or a"
                            + " spare host (drill.run=any runs drills on the primary too)");
                } else {
                    claimAndRun(order, message);
                }
            }
        }
    }

    private void leaveForPrimary(JobOrder order, ReceivedJob message) {
        leave(order, message, "this node is a replica, left for the primary");
    }

    /** Records this node as having passed the job, and keeps away from the queue for a while. */
    private void leave(JobOrder order, ReceivedJob message, String why) {
        if (passed.contains(order.jobId())) {
            source.changeVisibility(message, LEAVE);
            stepBack(STEP_BACK_AGAIN);
            return;
        }
        CatalogApi.Response r = api.get().passJob(stanza, order.jobId(), holderBody().toString());
        if (r.status() != 200) {
            log.println("tidemark agent: job " + order.jobId() + ": cannot record the pass: HTTP " + r.status() + ": "
                    + r.message());
        }
        passed.add(order.jobId());
        counters.passed.incrementAndGet();
        log.println("tidemark agent: job " + order.jobId() + " (" + order.type() + "): " + why);
        source.changeVisibility(message, LEAVE);
        stepBack(STEP_BACK_FIRST);
    }

    private void stepBack(Duration d) {
        receiveAfter = System.nanoTime() + d.toNanos();
    }

    private void claimAndRun(JobOrder order, ReceivedJob message) {
        CatalogApi.Response claim = api.get().claimJob(stanza, order.jobId(), holderBody().toString());
        if (claim.status() == 409 || claim.status() == 404) {
            log.println("tidemark agent: job " + order.jobId() + " not claimed: " + claim.message());
            source.delete(message);
            return;
        }
        if (claim.status() != 200) {
            log.println("tidemark agent: job " + order.jobId() + ": claim failed: HTTP " + claim.status() + ": "
                    + claim.message() + " (tried again when the message comes back)");
            source.changeVisibility(message, LEAVE);
            return;
        }
        ran.add(order.jobId());
        running = order;
        log.println("tidemark agent: job " + order.jobId() + ": running a " + (order.drill() ? "restore drill"
                : order.type() + " backup") + " as " + holder);
        ScheduledExecutorService keeper = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "tidemark-agent-visibility");
            t.setDaemon(true);
            return t;
        });
        keeper.scheduleAtFixedRate(() -> {
            try {
                source.changeVisibility(message, VISIBILITY);
            } catch (RuntimeException e) {
                log.println("tidemark agent: job " + order.jobId() + ": cannot extend the message's visibility: "
                        + e.getMessage());
            }
        }, VISIBILITY.toSeconds() / 3, VISIBILITY.toSeconds() / 3, TimeUnit.SECONDS);
        BackupRunner.Outcome outcome;
        try {
            outcome = order.drill() ? drills.run(order.jobId(), log) : runner.run(order.jobId(), order.type(), log);
        } finally {
            keeper.shutdownNow();
        }
        if (running == null) {
            return; // abandoned at shutdown, already reported
        }
        running = null;
        report(order, outcome);
        source.delete(message);
    }

    /** Reports a result; also what the shutdown hook calls for a backup it had to abandon. */
    void report(JobOrder order, BackupRunner.Outcome outcome) {
        ObjectNode body = holderBody();
        switch (outcome) {
            case BackupRunner.Done d -> {
                counters.done.incrementAndGet();
                counters.lastDurationMs = d.durationMs();
                body.put("result", "done").put("label", d.label()).put("originalSize", d.originalSize())
                        .put("storedSize", d.storedSize()).put("durationMs", d.durationMs());
                log.println("tidemark agent: job " + order.jobId() + ": done, backup " + d.label());
            }
            case DrillRunner.Drilled d when d.passed() -> {
                DrillResult r = d.result().orElseThrow();
                body.put("result", "done").put("label", r.backup().orElseThrow()).put("originalSize", r.bytes())
                        .put("durationMs", d.durationMs());
                log.println("tidemark agent: job " + order.jobId() + ": drill " + r.drillId() + " passed, backup "
                        + r.backup().orElseThrow() + ", RTO " + r.promotedMs().orElse(-1) + " ms");
            }
            case DrillRunner.Drilled d -> {
                body.put("result", "failed").put("error", d.why()).put("durationMs", d.durationMs());
                log.println("tidemark agent: job " + order.jobId() + ": FAILED: " + d.why());
            }
            case BackupRunner.Failed f -> {
                counters.failed.incrementAndGet();
                counters.lastDurationMs = f.durationMs();
                body.put("result", "failed").put("error", f.error()).put("durationMs", f.durationMs());
                log.println("tidemark agent: job " + order.jobId() + ": FAILED: " + f.error());
            }
        }
        CatalogApi.Response r = api.get().reportJob(stanza, order.jobId(), body.toString());
        if (r.status() != 200) {
            log.println("tidemark agent: job " + order.jobId() + ": cannot report the result: HTTP " + r.status() + ": "
                    + r.message());
        }
    }

    private ObjectNode holderBody() {
        return JsonNodeFactory.instance.objectNode().put("holder", holder);
    }

    /** From {@code pg_is_in_recovery()}; empty when PostgreSQL does not answer. */
    private Optional<Boolean> isPrimary() {
        try (Connection c = PgConnector.connect(pg, 5)) {
            return Optional.of(!PgConnector.facts(c).inRecovery());
        } catch (SQLException e) {
            log.println("tidemark agent: PostgreSQL at " + pg.describe() + " does not answer (" + e.getMessage()
                    + "): jobs are left for the other nodes");
            return Optional.empty();
        }
    }

    @Override
    public void stop() {
        stopping = true;
    }
}
