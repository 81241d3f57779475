package io.tidemark.shim.restore;

import static org.junit.jupiter.api.Assertions.assertFalse;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Clients' writes into table {@code t (id, batch)} of a streamed stanza: transactions of
 * {@code rows} rows of batch {@code 'load'} in autocommit, on a thread of their own, to whichever
 * server it is pointed at (a failover moves it); a WAL switch every {@code switchEvery}
 * acknowledged transactions (0: never), {@code pauseMs} between transactions (0: as fast as the
 * server takes them). Ids start at 100,000 and are never reused, not even those of a transaction
 * whose acknowledgement was lost.
 */
final class CommitLoad implements AutoCloseable {
    private final int rows;
    private final int switchEvery;
    private final long pauseMs;
    private final String pad;
    private volatile int port;
    private volatile boolean stop;
    private final AtomicInteger acknowledged = new AtomicInteger();
    private final Thread thread;

    /** As fast as the server takes them, ten rows a transaction, a WAL switch every 250. */
    CommitLoad(int port) {
        this(port, 10, 0, 250, 0);
    }

    /** {@code padBytes}: the length of each row's batch text beyond {@code 'load'} (WAL volume). */
    CommitLoad(int port, int rows, long pauseMs, int switchEvery, int padBytes) {
        this.port = port;
        this.rows = rows;
        this.pauseMs = pauseMs;
        this.switchEvery = switchEvery;
        this.pad = padBytes == 0 ? "'load'" : "'load' || repeat(' ', " + padBytes + ")";
        thread = Thread.ofPlatform().name("commit-load").start(this::run);
    }

    /** Transactions the server acknowledged so far. */
    int acknowledged() {
        return acknowledged.get();
    }

    void moveTo(int newPort) {
        port = newPort;
    }

    private void run() {
        int id = 100_000;
        while (!stop) {
            int at = port;
            try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + at
                    + "/postgres?user=postgres&connectTimeout=5&socketTimeout=10");
                 Statement st = c.createStatement()) {
                while (!stop && port == at) {
                    st.execute("insert into t select g, " + pad + " from generate_series(" + id + ", "
                            + (id + rows - 1) + ") g");
                    id += rows;
                    if (switchEvery > 0 && acknowledged.incrementAndGet() % switchEvery == 0) {
                        st.execute("select pg_switch_wal()");
                    } else if (switchEvery == 0) {
                        acknowledged.incrementAndGet();
                    }
                    if (pauseMs > 0) {
                        Thread.sleep(pauseMs);
                    }
                }
            } catch (SQLException e) {
                id += rows; // the transaction may have committed: never reuse its ids
                try {
                    Thread.sleep(100); // the server is down or still a standby
                } catch (InterruptedException ie) {
                    return;
                }
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    @Override
    public void close() throws InterruptedException {
        stop = true;
        thread.join(30_000);
        assertFalse(thread.isAlive(), "the load stopped");
    }
}
