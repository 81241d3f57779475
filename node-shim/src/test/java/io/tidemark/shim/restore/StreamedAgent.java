package io.tidemark.shim.restore;

import static org.junit.jupiter.api.Assertions.assertFalse;

import io.tidemark.events.layout.Compression;
import io.tidemark.events.layout.StanzaName;
import io.tidemark.shim.config.ShimConfig;
import io.tidemark.shim.pg.PgOptions;
import io.tidemark.shim.storage.CredentialSource;
import io.tidemark.shim.storage.ObjectStore;
import io.tidemark.shim.storage.Stores;
import io.tidemark.shim.stream.ChunkStore;
import io.tidemark.shim.stream.StreamCounters;
import io.tidemark.shim.stream.StreamLease;
import io.tidemark.shim.stream.StreamSettings;
import io.tidemark.shim.stream.WalStreamer;
import io.tidemark.testkit.PgCluster;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import org.awaitility.Awaitility;

/**
 * The agent's real {@link WalStreamer} on a thread of its own, streaming one server of a
 * {@link StreamedStanza} into its cloud through the node's own S3 client; what the streamed-WAL
 * cloud tests start and tear down. {@link #close()} halts it (as a killed agent: nothing more is
 * stored) and closes its store; a test that wants a clean stop calls {@link #stop()}.
 */
final class StreamedAgent implements AutoCloseable {
    private final WalStreamer streamer;
    private final Thread thread;
    private final ObjectStore store;
    private final StreamCounters counters = new StreamCounters();
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private StreamedAgent(ShimConfig config, PgCluster server, StreamSettings settings) throws Exception {
        StanzaName name = config.stanza();
        store = Stores.open(config, CredentialSource.of(config, Map.of()));
        streamer = new WalStreamer(name, settings,
                new PgOptions(null, "127.0.0.1", server.port(), "postgres", "postgres", null, false),
                new ChunkStore(store, name, Compression.ZSTD, 1), StreamLease.NONE, counters,
                server::systemIdentifier, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), Clock.systemUTC());
        thread = Thread.ofPlatform().name("test-streamer").start(() -> {
            try {
                streamer.run();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
    }

    /** Starts streaming {@code server} for {@code stanza}'s stanza with {@code settings}. */
    static StreamedAgent start(StreamedStanza stanza, PgCluster server, StreamSettings settings) throws Exception {
        return new StreamedAgent(stanza.nodeConfig(), server, settings);
    }

    /** As {@link #start(StreamedStanza, PgCluster, StreamSettings)}, with the node configuration in {@code conf}. */
    static StreamedAgent start(Path conf, PgCluster server, StreamSettings settings) throws Exception {
        return new StreamedAgent(StreamedStanza.nodeConfig(conf), server, settings);
    }

    StreamCounters counters() {
        return counters;
    }

    String outText() {
        return out.toString(StandardCharsets.UTF_8);
    }

    String errText() {
        return err.toString(StandardCharsets.UTF_8);
    }

    /** Waits until the agent printed {@code line} (on either stream); fails with all it printed. */
    void awaitLine(String line) {
        try {
            Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> (outText() + errText()).contains(line));
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            throw new AssertionError("the agent did not say '" + line + "':\n" + outText() + errText(), e);
        }
    }

    /** A clean stop (SIGTERM's path): what was received is stored first. */
    void stop() throws InterruptedException {
        streamer.stop();
        thread.join(30_000);
        assertFalse(thread.isAlive(), "the streamer stopped");
    }

    /** An abrupt end (a killed agent): nothing more is stored or reported. */
    void halt() throws InterruptedException {
        streamer.halt();
        thread.join(10_000);
        assertFalse(thread.isAlive(), "the streamer halted");
    }

    /**
     * {@code tidemark agent} in a JVM of its own (the test's classpath) for {@code server}, its
     * output in {@code log}: the real process, its lease, archive worker and streamer. The caller
     * ends it ({@link Process#destroy()} is SIGTERM, {@link Process#destroyForcibly()} SIGKILL).
     */
    static Process process(Path conf, PgCluster server, Path log) throws java.io.IOException {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        ProcessBuilder pb = new ProcessBuilder(java.toString(), "-cp", System.getProperty("java.class.path"),
                "io.tidemark.shim.Main", "agent", "--config", conf.toString(), "--pg-host", "127.0.0.1",
                "--pg-port", String.valueOf(server.port()), "--pg-user", "postgres", "--metrics-port", "0")
                .redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().remove("PGDATA");
        return pb.start();
    }

    /** Closes each that is not null, in order (agents before the servers they stream), every one even if one fails. */
    static void closeAll(AutoCloseable... all) throws Exception {
        Exception first = null;
        for (AutoCloseable c : all) {
            try {
                if (c != null) {
                    c.close();
                }
            } catch (Exception e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }

    @Override
    public void close() throws Exception {
        try {
            if (thread.isAlive()) {
                streamer.halt();
                thread.join(10_000);
            }
        } finally {
            store.close();
        }
    }
}
