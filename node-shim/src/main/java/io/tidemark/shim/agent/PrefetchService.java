package io.tidemark.shim.agent;

import io.tidemark.events.wal.WalSegmentSize;
import io.tidemark.shim.archiveget.HostedPrefetcher;
import io.tidemark.shim.pg.PgConnector;
import io.tidemark.shim.pg.PgOptions;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.function.Function;

/**
 * The standby's archive-get prefetcher as one of the agent's services
 * ({@code archive-get.agent-prefetch=true}, the default): see {@link HostedPrefetcher}. On a
 * primary it waits, asking PostgreSQL every few seconds whether it is in recovery.
 */
final class PrefetchService implements AgentService {
    private final Function<java.util.function.Supplier<Optional<HostedPrefetcher.Cluster>>, HostedPrefetcher> prefetcher;
    private final PgOptions pg;
    private final CountDownLatch stopped = new CountDownLatch(1);

    PrefetchService(Function<java.util.function.Supplier<Optional<HostedPrefetcher.Cluster>>, HostedPrefetcher> prefetcher,
                    PgOptions pg) {
        this.prefetcher = prefetcher;
        this.pg = pg;
    }

    @Override
    public String name() {
        return "archive-get-prefetch";
    }

    @Override
    public void run() throws InterruptedException {
        prefetcher.apply(this::cluster).run(() -> stopped.getCount() == 0);
    }

    /** pg_is_in_recovery() and wal_segment_size; empty when PostgreSQL does not answer. */
    private Optional<HostedPrefetcher.Cluster> cluster() {
        try (Connection c = PgConnector.connect(pg, 5)) {
            PgConnector.ClusterFacts f = PgConnector.facts(c);
            return Optional.of(new HostedPrefetcher.Cluster(f.inRecovery(), WalSegmentSize.ofBytes(f.walSegmentSize())));
        } catch (SQLException | RuntimeException e) {
            return Optional.empty();
        }
    }

    @Override
    public void stop() {
        stopped.countDown();
    }
}
