package io.tidemark.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A real PostgreSQL cluster in a fresh temp dir, for tests.
 *
 * <pre>{@code
 * try (PgCluster pg = PgCluster.builder().dataChecksums(true).setting("wal_level", "replica").build().start()) {
 *     pg.sql("create table t(id int)");
 * }
 * }</pre>
 *
 * <p>Layout of the temp dir (owned by the run-as user, mode 0700): {@code data/} (PGDATA),
 * {@code sock/} (the unix socket), {@code server.log}, and {@code archive/} when
 * {@link Builder#archiving()} is on. The server listens on a free TCP port on 127.0.0.1.
 *
 * <p>When the JVM is root the tools run as {@code postgres} (see {@link RunAs}); the JVM itself
 * can still read everything, e.g. WAL files straight from {@link #walDir()}.
 *
 * <p>{@link #close()} stops the server and deletes the dir, also after a failed start. A shutdown
 * hook closes clusters a test leaked, and the next test JVM reaps clusters of a killed one.
 */
public final class PgCluster implements AutoCloseable {

    static final String DATA_DIR_NAME = "data";
    private static final String SUPERUSER = "postgres";
    private static final String DATABASE = "postgres";
    private static final Duration TOOL_TIMEOUT = Duration.ofMinutes(2);
    private static final int LOG_TAIL_LINES = 40;
    private static final int START_ATTEMPTS = 3;

    private final PgBinaries binaries;
    private final Path baseDir;
    private final Path dataDir;
    private final Path socketDir;
    private final Path logFile;
    private final Path archiveDir;   // null unless archiving
    private final int walSegmentSizeMb;
    private final Duration startTimeout;
    private final CommandRunner runner;

    private Map<String, String> pendingSettings; // emptyDataDir: appended at the first start

    private volatile int port = -1;
    private volatile boolean running;
    private volatile boolean closed;

    private PgCluster(Builder b, PgBinaries binaries, RunAs runAs, Path baseDir) {
        this.binaries = binaries;
        this.baseDir = baseDir;
        this.dataDir = baseDir.resolve(DATA_DIR_NAME);
        this.socketDir = baseDir.resolve("sock");
        this.logFile = baseDir.resolve("server.log");
        this.archiveDir = b.archiving ? baseDir.resolve("archive") : null;
        this.walSegmentSizeMb = b.walSegmentSizeMb;
        this.startTimeout = b.startTimeout;
        // LC_ALL=C: tool messages we parse are English; TZ/PGTZ=UTC: printed times are unambiguous.
        this.runner = new CommandRunner(runAs, baseDir,
                Map.of("LC_ALL", "C", "LANG", "C", "TZ", "UTC", "PGTZ", "UTC", "PGCONNECT_TIMEOUT", "10"));
    }

    public static Builder builder() {
        return new Builder();
    }

    // ---------------------------------------------------------------- lifecycle

    /** Starts the server on a free port (retrying with another port if one was taken meanwhile). */
    public synchronized PgCluster start() {
        ensureOpen();
        if (running) {
            return this;
        }
        if (pendingSettings != null) {
            appendSettings(pendingSettings);
            pendingSettings = null;
        }
        for (int attempt = 1; ; attempt++) {
            int candidate = freePort();
            long logOffset = fileSize(logFile);
            CommandResult r = runner.run(List.of(bin("pg_ctl").toString(), "-D", dataDir.toString(),
                    "-l", logFile.toString(), "-w", "-t", String.valueOf(startTimeout.toSeconds()),
                    "-o", "-p " + candidate, "start"), startTimeout.plusSeconds(30));
            if (r.succeeded()) {
                port = candidate;
                running = true;
                return this;
            }
            String newLog = readFrom(logFile, logOffset);
            boolean portTaken = newLog.contains("could not bind") || newLog.contains("Address already in use");
            stopQuietly(); // a postmaster that came half up must not linger
            if (!portTaken || attempt == START_ATTEMPTS) {
                throw new CommandFailedException(r, "cluster " + baseDir + " did not start\n" + logContext());
            }
        }
    }

    /** Stops the server (fast shutdown: sessions are ended, a shutdown checkpoint is written). */
    public synchronized void stop() {
        if (!postmasterAlive()) {
            running = false;
            return;
        }
        CommandResult r = runner.run(pgCtlStop("fast"), TOOL_TIMEOUT);
        running = false;
        if (!r.succeeded() && postmasterAlive()) {
            stopQuietly();
            throw new CommandFailedException(r, "fast stop failed; the server was killed\n" + logContext());
        }
    }

    public boolean isRunning() {
        return running;
    }

    /** Stops the server if needed and deletes the whole temp dir. Safe to call twice and after a failed start. */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        ClusterReaper.unregister(this);
        try {
            if (postmasterAlive()) {
                CommandResult r = runner.run(pgCtlStop("fast"), Duration.ofSeconds(60));
                if (!r.succeeded()) {
                    stopQuietly();
                }
            }
        } catch (RuntimeException e) {
            stopQuietly();
        } finally {
            running = false;
            FileTrees.deleteQuietly(baseDir);
        }
    }

    /**
     * {@link #close()} of every cluster, at the same time: each close mostly waits for its server
     * to shut down, so a test class that restored a dozen clusters ends in the time of the slowest
     * close instead of the sum. Returns when all are closed.
     */
    public static void closeAll(java.util.Collection<? extends PgCluster> clusters) {
        List<Thread> closing = new ArrayList<>();
        for (PgCluster c : clusters) {
            if (c != null) {
                closing.add(Thread.ofVirtual().name("close " + c.baseDir).start(c::close));
            }
        }
        for (Thread t : closing) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /** From the shutdown hook: no time for a checkpoint, just make sure nothing survives. */
    void closeAtJvmExit() {
        closed = true;
        running = false;
        stopQuietly();
        FileTrees.deleteQuietly(baseDir);
    }

    /** Immediate stop, then SIGKILL of the postmaster if it is still there. Never throws. */
    private void stopQuietly() {
        try {
            if (postmasterAlive()) {
                runner.run(pgCtlStop("immediate"), Duration.ofSeconds(30));
            }
        } catch (RuntimeException ignored) {
            // fall through to the kill
        }
        postmasterPid(dataDir).flatMap(ProcessHandle::of).filter(ProcessHandle::isAlive).ifPresent(p -> {
            p.destroyForcibly();
            p.onExit().orTimeout(10, TimeUnit.SECONDS).exceptionally(t -> null).join();
        });
    }

    private List<String> pgCtlStop(String mode) {
        return List.of(bin("pg_ctl").toString(), "-D", dataDir.toString(), "-m", mode, "-w", "-t", "60", "stop");
    }

    private boolean postmasterAlive() {
        return postmasterPid(dataDir).flatMap(ProcessHandle::of).map(ProcessHandle::isAlive).orElse(false);
    }

    /** The pid in {@code postmaster.pid}, if the file is there. */
    static Optional<Long> postmasterPid(Path dataDir) {
        try {
            List<String> lines = Files.readAllLines(dataDir.resolve("postmaster.pid"), StandardCharsets.UTF_8);
            return lines.isEmpty() ? Optional.empty() : Optional.of(Long.parseLong(lines.get(0).trim()));
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    // ---------------------------------------------------------------- SQL

    /**
     * Runs {@code script} with {@code psql -X -q -A -t -v ON_ERROR_STOP=1} (statements split by
     * psql, each in its own transaction unless the script says BEGIN) and returns the rows it
     * printed, one per line, columns separated by {@code |}, without a trailing newline.
     *
     * @throws CommandFailedException with psql's stderr and the server log tail
     */
    public String sql(String script) {
        CommandResult r = psql(script);
        if (!r.succeeded()) {
            throw new CommandFailedException(r, "--- SQL ---\n" + CommandFailedException.tail(script, 2000)
                    + "\n" + logContext());
        }
        return r.stdoutTrimmed();
    }

    /** Like {@link #sql(String)} but returns the raw result, failed or not. */
    public CommandResult psql(String script) {
        ensureRunning();
        return runner.run(List.of(bin("psql").toString(), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                "-h", socketDir.toString(), "-p", String.valueOf(port), "-U", SUPERUSER, "-d", DATABASE,
                "-f", "-"), TOOL_TIMEOUT, script);
    }

    /** {@code jdbc:postgresql://127.0.0.1:<port>/postgres?user=postgres} (trust authentication). */
    public String jdbcUrl() {
        ensureRunning();
        return "jdbc:postgresql://127.0.0.1:" + port + "/" + DATABASE + "?user=" + SUPERUSER;
    }

    /** A new JDBC session, for tests that hold one open (PREPARE TRANSACTION, pg_backup_start). */
    public Connection connect() throws SQLException {
        return DriverManager.getConnection(jdbcUrl());
    }

    // ---------------------------------------------------------------- WAL helpers

    /** {@code pg_switch_wal()}; returns the name of the segment it finished (nothing switches if no WAL was written since the last switch). */
    public String switchWal() {
        return sql("select pg_walfile_name(pg_switch_wal())");
    }

    /** The segment the server is writing into. */
    public String currentWalFile() {
        return sql("select pg_walfile_name(pg_current_wal_lsn())");
    }

    /** {@code pg_current_wal_insert_lsn()} as text, e.g. {@code 0/3000028}. */
    public String currentWalInsertLsn() {
        return sql("select pg_current_wal_insert_lsn()");
    }

    public void checkpoint() {
        sql("checkpoint");
    }

    /** {@code pg_controldata} as a map ("Database system identifier" to "7710..."); works stopped or running. */
    public Map<String, String> controlData() {
        ensureOpen();
        CommandResult r = run(List.of(bin("pg_controldata").toString(), "-D", dataDir.toString()));
        Map<String, String> values = new LinkedHashMap<>();
        for (String line : r.stdout().split("\n")) {
            int colon = line.indexOf(':');
            if (colon > 0) {
                values.put(line.substring(0, colon).trim(), line.substring(colon + 1).trim());
            }
        }
        return values;
    }

    /** The system identifier (unsigned 64-bit, as a long: compare with {@link Long#toUnsignedString}). */
    public long systemIdentifier() {
        return Long.parseUnsignedLong(controlValue("Database system identifier"));
    }

    /** WAL segment size in bytes, as the control file records it. */
    public long walSegmentSize() {
        return Long.parseLong(controlValue("Bytes per WAL segment"));
    }

    /** WAL page size in bytes (8192 unless the server was built otherwise). */
    public int walBlockSize() {
        return Integer.parseInt(controlValue("WAL block size"));
    }

    private String controlValue(String key) {
        String v = controlData().get(key);
        if (v == null) {
            throw new IllegalStateException("pg_controldata printed no '" + key + "' for " + dataDir);
        }
        return v;
    }

    /** The segment size this cluster was built with ({@code initdb --wal-segsize}). */
    public int walSegmentSizeMb() {
        return walSegmentSizeMb;
    }

    /**
     * Waits until the archiver has copied {@code segmentName} into {@link #archiveDir()}. The
     * archive command copies to a temp name and renames, so a file that is there is complete.
     */
    public Path waitForArchived(String segmentName, Duration timeout) {
        Path target = archiveDir().orElseThrow(() -> new IllegalStateException("archiving is off for " + baseDir))
                .resolve(segmentName);
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!Files.exists(target)) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("segment " + segmentName + " was not archived within "
                        + timeout.toSeconds() + " s\n" + logContext());
            }
            FileTrees.sleepQuietly(50);
        }
        return target;
    }

    /** The archived WAL segments (not history or partial files), in name order. */
    public List<Path> archivedSegments() {
        Path dir = archiveDir().orElseThrow(() -> new IllegalStateException("archiving is off for " + baseDir));
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> p.getFileName().toString().matches("[0-9A-F]{24}")).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // ---------------------------------------------------------------- tools and paths

    /** The path of a PostgreSQL tool ({@code pg_basebackup}, {@code pg_waldump}, ...). */
    public Path bin(String tool) {
        return binaries.tool(tool);
    }

    /**
     * Runs {@code command} as the run-as user in the cluster dir, with LC_ALL=C and TZ=UTC.
     *
     * @throws CommandFailedException on a non-zero exit or timeout, with stderr and the server log tail
     */
    public CommandResult run(List<String> command) {
        return run(command, TOOL_TIMEOUT);
    }

    public CommandResult run(List<String> command, Duration timeout) {
        CommandResult r = tryRun(command, timeout);
        if (!r.succeeded()) {
            throw new CommandFailedException(r, logContext());
        }
        return r;
    }

    /** Runs {@code command} like {@link #run(List)} but returns a failed result instead of throwing. */
    public CommandResult tryRun(List<String> command, Duration timeout) {
        ensureOpen();
        return runner.run(command, timeout);
    }

    public Path baseDir() {
        return baseDir;
    }

    public Path dataDir() {
        return dataDir;
    }

    public Path walDir() {
        return dataDir.resolve("pg_wal");
    }

    public Path socketDir() {
        return socketDir;
    }

    public Optional<Path> archiveDir() {
        return Optional.ofNullable(archiveDir);
    }

    public int port() {
        ensureRunning();
        return port;
    }

    public PgBinaries binaries() {
        return binaries;
    }

    public RunAs runAs() {
        return runner.runAs();
    }

    public Path logFile() {
        return logFile;
    }

    /** The last {@code maxLines} lines of the server log ("" if there is none yet). */
    public String logTail(int maxLines) {
        List<String> lines = readFrom(logFile, Math.max(0, fileSize(logFile) - 64 * 1024)).stripTrailing().lines().toList();
        return String.join("\n", lines.subList(Math.max(0, lines.size() - maxLines), lines.size()));
    }

    /** A server log tail block for exception messages. */
    public String logContext() {
        String tail = logTail(LOG_TAIL_LINES);
        return "--- server log (tail) " + logFile + " ---\n" + (tail.isBlank() ? "(empty)" : tail);
    }

    @Override
    public String toString() {
        return "PgCluster[" + baseDir + (running ? ", port " + port : ", stopped") + ", " + binaries.version() + "]";
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("cluster " + baseDir + " is closed");
        }
    }

    private void ensureRunning() {
        ensureOpen();
        if (!running) {
            throw new IllegalStateException("cluster " + baseDir + " is not running; call start()");
        }
    }

    private static long fileSize(Path p) {
        try {
            return Files.exists(p) ? Files.size(p) : 0;
        } catch (IOException e) {
            return 0;
        }
    }

    private static String readFrom(Path p, long offset) {
        if (!Files.exists(p)) {
            return "";
        }
        try (SeekableByteChannel ch = Files.newByteChannel(p, StandardOpenOption.READ)) {
            long size = ch.size();
            if (offset >= size) {
                return "";
            }
            ch.position(offset);
            ByteBuffer buf = ByteBuffer.allocate((int) Math.min(size - offset, 1 << 20));
            while (buf.hasRemaining() && ch.read(buf) > 0) {
                // fill
            }
            return new String(buf.array(), 0, buf.position(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "(cannot read " + p + ": " + e + ")";
        }
    }

    private static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot find a free TCP port on 127.0.0.1", e);
        }
    }

    // ---------------------------------------------------------------- building

    /** How to initdb a cluster. {@link #build()} runs initdb; the server starts with {@link PgCluster#start()}. */
    public static final class Builder {

        private int walSegmentSizeMb = 16;
        private boolean dataChecksums;
        private boolean archiving;
        private boolean emptyDataDir;
        private final Map<String, String> settings = new LinkedHashMap<>();
        private Duration startTimeout = Duration.ofSeconds(60);
        private PgBinaries binaries;
        private RunAs runAs;
        private Path tempRoot;

        private Builder() {
        }

        /** {@code initdb --wal-segsize}: a power of two, 1 to 1024. Default 16. */
        public Builder walSegmentSizeMb(int mb) {
            if (mb < 1 || mb > 1024 || Integer.bitCount(mb) != 1) {
                throw new IllegalArgumentException("WAL segment size must be a power of two from 1 to 1024 MB: " + mb);
            }
            this.walSegmentSizeMb = mb;
            return this;
        }

        /** {@code initdb --data-checksums}; also makes hint-bit changes WAL-log full-page images. */
        public Builder dataChecksums(boolean on) {
            this.dataChecksums = on;
            return this;
        }

        /** A server setting written to postgresql.conf; overrides the testkit defaults. */
        public Builder setting(String name, String value) {
            settings.put(name, value);
            return this;
        }

        /**
         * {@code archive_mode=on} with an archive command that copies finished segments into
         * {@code <cluster dir>/archive} (temp name, then rename: a visible file is complete).
         */
        public Builder archiving() {
            this.archiving = true;
            return this;
        }

        /**
         * No initdb: {@code data/} is created empty (mode 0700, owned by the run-as user) for the
         * test to fill (pg_basebackup, a restored backup); the testkit settings and
         * {@link #setting}s are appended to its postgresql.conf at the first {@link PgCluster#start()}.
         */
        public Builder emptyDataDir() {
            this.emptyDataDir = true;
            return this;
        }

        public Builder startTimeout(Duration timeout) {
            this.startTimeout = timeout;
            return this;
        }

        /** Default: {@link PgBinaries#locate()}. */
        public Builder binaries(PgBinaries binaries) {
            this.binaries = binaries;
            return this;
        }

        /** Default: {@link RunAs#detect()}. */
        public Builder runAs(RunAs runAs) {
            this.runAs = runAs;
            return this;
        }

        /** Where the cluster dir is created. Default: env TIDEMARK_PG_TMPDIR, else /tmp for root, else java.io.tmpdir. */
        public Builder tempRoot(Path dir) {
            this.tempRoot = dir;
            return this;
        }

        /** Creates the temp dir and runs initdb. The caller owns the result and must close it. */
        public PgCluster build() {
            PgBinaries bins = binaries != null ? binaries : PgBinaries.locate();
            RunAs as = runAs != null ? runAs : RunAs.detect();
            Path root = tempRoot != null ? tempRoot : defaultTempRoot(as);
            ClusterReaper.sweepOrphansOnce(root, bins, as);
            Path base;
            try {
                base = Files.createTempDirectory(root, ClusterReaper.DIR_PREFIX); // mode 0700
                ClusterReaper.writeOwnerMarker(base);
                as.giveOwnership(base);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot create a cluster dir under " + root, e);
            }
            PgCluster cluster = new PgCluster(this, bins, as, base);
            ClusterReaper.register(cluster);
            try {
                cluster.makeOwnedDir(cluster.socketDir);
                if (archiving) {
                    cluster.makeOwnedDir(cluster.archiveDir);
                }
                if (emptyDataDir) {
                    cluster.makeOwnedDir(cluster.dataDir);
                    Files.setPosixFilePermissions(cluster.dataDir, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
                    cluster.pendingSettings = effectiveSettings(cluster);
                    return cluster;
                }
                cluster.initdb(dataChecksums);
                cluster.appendSettings(effectiveSettings(cluster));
                return cluster;
            } catch (IOException e) {
                cluster.close();
                throw new UncheckedIOException(e);
            } catch (RuntimeException e) {
                cluster.close();
                throw e;
            }
        }

        private Map<String, String> effectiveSettings(PgCluster c) {
            Map<String, String> all = new LinkedHashMap<>();
            all.put("listen_addresses", "127.0.0.1");
            all.put("unix_socket_directories", c.socketDir.toString());
            all.put("timezone", "UTC");
            all.put("log_timezone", "UTC");
            // fsync only matters for surviving an OS crash; WAL content is the same without it.
            all.put("fsync", "off");
            all.put("max_connections", "30");
            if (archiving) {
                String dir = c.archiveDir.toString();
                all.put("archive_mode", "on");
                all.put("archive_command", "cp %p " + dir + "/%f.part && mv " + dir + "/%f.part " + dir + "/%f");
            }
            all.putAll(settings);
            return all;
        }

        private static Path defaultTempRoot(RunAs as) {
            String env = System.getenv("TIDEMARK_PG_TMPDIR");
            if (env != null && !env.isBlank()) {
                return Path.of(env);
            }
            // root's java.io.tmpdir may sit in a 0700 dir the postgres user cannot enter; and
            // the unix socket path must stay short (107 bytes), so prefer /tmp.
            Path jvmTmp = Path.of(System.getProperty("java.io.tmpdir"));
            if (as.switchesUser() || jvmTmp.toString().length() > 40) {
                return Path.of("/tmp");
            }
            return jvmTmp;
        }
    }

    private void makeOwnedDir(Path dir) {
        try {
            Files.createDirectory(dir);
            runner.runAs().giveOwnership(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + dir, e);
        }
    }

    private void initdb(boolean dataChecksums) {
        List<String> cmd = new ArrayList<>(List.of(bin("initdb").toString(), "-D", dataDir.toString(),
                "-U", SUPERUSER, "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync",
                "--wal-segsize=" + walSegmentSizeMb));
        if (dataChecksums) {
            cmd.add("--data-checksums");
        }
        if (binaries.majorVersion() >= 14) {
            cmd.add("--no-instructions");
        }
        CommandResult r = runner.run(cmd, TOOL_TIMEOUT);
        if (!r.succeeded()) {
            throw new CommandFailedException(r, "initdb failed for " + dataDir);
        }
    }

    private void appendSettings(Map<String, String> settings) {
        StringBuilder conf = new StringBuilder("\n# ---- written by the tidemark testkit ----\n");
        settings.forEach((k, v) -> conf.append(k).append(" = '")
                .append(v.replace("\\", "\\\\").replace("'", "''")).append("'\n"));
        try {
            // appending keeps the file's owner (the run-as user) and mode
            Files.writeString(dataDir.resolve("postgresql.conf"), conf, StandardCharsets.UTF_8, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write settings into " + dataDir, e);
        }
    }
}
