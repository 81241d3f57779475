package io.tidemark.shim.quickstart;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tidemark.events.json.Json;
import io.tidemark.shim.Command;
import io.tidemark.shim.cli.ExitCodes;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import picocli.CommandLine;

/**
 * {@code tidemark quickstart}: the whole product on one machine in about a minute. It starts the
 * local cloud and a throwaway PostgreSQL cluster, archives, takes a backup, writes data, drops a
 * table by mistake, shows the recovery window, restores to just before the mistake, starts the
 * restored cluster and shows the table is back. Everything lives in a temp dir that is removed
 * at the end ({@code --keep} leaves it for a look around).
 */
@CommandLine.Command(name = "quickstart", mixinStandardHelpOptions = true, versionProvider = io.tidemark.shim.cli.Version.class,
        description = "The end-to-end demo on a throwaway cluster: local cloud, archiving, backup, a mistake, a point-in-time restore.")
public final class QuickstartCommand implements Command {
    @CommandLine.Option(names = "--keep", description = "leave the demo's temp directory for a look around")
    private boolean keep;
    private static final String STANZA = "demo";
    private static final ObjectMapper JSON = Json.mapper();

    private PrintStream out;
    private Exec exec;
    private Path work;
    private Path launcher;
    private Path repoLauncher;
    private Path bin;
    private Process cloud;
    private Path run; // owned by the PostgreSQL user: server logs and sockets
    private final List<Path> clusters = new ArrayList<>();

    @Override
    public int call(PrintStream out, PrintStream err) {
        boolean keep = this.keep;
        this.out = out;
        var pgBin = PgBinDir.find();
        if (pgBin.isEmpty()) {
            err.println("tidemark quickstart: PostgreSQL server programs (initdb, pg_ctl, postgres) not found."
                    + " Install them, e.g. on Debian/Ubuntu: apt-get install postgresql-15"
                    + " (or set TIDEMARK_PG_BINDIR to their directory).");
            return ExitCodes.FAILED;
        }
        bin = pgBin.get();
        exec = Exec.forCurrentUser();
        try {
            work = Files.createTempDirectory(Path.of("/tmp"), "tidemark-quickstart-",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
            launcher = installLauncher();
            run = work.resolve("run");
            Files.createDirectories(run);
            giveToRunUser(run);
            demo();
            return ExitCodes.OK;
        } catch (QuickstartFailure e) {
            err.println("tidemark quickstart: " + e.getMessage());
            err.println("tidemark quickstart: the files are kept in " + work + " for a look (logs: *.log, run/*.log)");
            keep = true;
            return ExitCodes.FAILED;
        } catch (IOException e) {
            err.println("tidemark quickstart: " + e.getMessage());
            return ExitCodes.FAILED;
        } finally {
            stopEverything();
            if (work != null && !keep) {
                deleteTree(work);
            } else if (work != null) {
                out.println("kept: " + work);
            }
        }
    }

    private void demo() throws IOException {
        step("starting the local cloud (S3, DynamoDB, the functions, the API)");
        Path conf = startCloud();

        int port = freePort();
        Path original = work.resolve("pg-original");
        step("creating a PostgreSQL cluster in " + original + " (port " + port + ")"
                + (exec.runAsUser() != null ? ", run as user " + exec.runAsUser() : ""));
        String archive = launcher + " archive-push --config " + conf + " --stanza " + STANZA + " %p";
        initCluster(original, port, Map.of("archive_mode", "on", "archive_command", archive,
                "wal_level", "replica", "archive_timeout", "0"));
        startCluster(original, port);
        Map<String, String> pgEnv = pgEnv(port, original);
        shim(pgEnv, "stanza-create", "register the cluster", "--config", conf.toString(), "--stanza", STANZA);

        step("writing 10,000 orders");
        sql(port, "create table orders(id int primary key, item text not null, qty int not null)");
        sql(port, "insert into orders select g, 'item-' || (g % 97), 1 + g % 5 from generate_series(1, 10000) g");

        step("taking a full backup straight to S3");
        shim(pgEnv, "backup", "back up", "--config", conf.toString(), "--stanza", STANZA, "--type", "full");
        waitFor(Duration.ofSeconds(120), "the backup to be validated by the cloud", () -> backupValid(pgEnv, conf));

        step("the day goes on: 500 more orders");
        sql(port, "insert into orders select g, 'item-' || (g % 97), 1 + g % 5 from generate_series(10001, 10500) g");
        String lastGood = sql(port, "select clock_timestamp()");
        sleep(1200);
        step("a mistake: DROP TABLE orders (at " + sql(port, "select clock_timestamp()") + ")");
        sql(port, "drop table orders");
        sql(port, "create table after_the_mistake as select 1 as x");
        String segment = sql(port, "select pg_walfile_name(pg_switch_wal())");
        waitFor(Duration.ofSeconds(120), "WAL up to the mistake to be archived",
                () -> sql(port, "select coalesce(last_archived_wal, '') >= '" + segment + "' from pg_stat_archiver").equals("t"));

        step("the recovery window the cloud computed (tidemark info)");
        Exec.Result info = shim(pgEnv, "info", "show the window", "--config", conf.toString(), "--stanza", STANZA);
        info.out().lines().forEach(l -> out.println("    " + l));

        step("stopping the damaged cluster");
        stopCluster(original);

        Path restored = work.resolve("pg-restored");
        Files.createDirectories(restored);
        Files.setPosixFilePermissions(restored, PosixFilePermissions.fromString("rwx------"));
        giveToRunUser(restored);
        step("restoring to " + lastGood + ", the last moment before the mistake, into " + restored);
        shim(pgEnv, "restore", "restore", "--config", conf.toString(), "--stanza", STANZA, "--pgdata", restored.toString(),
                "--target-time", lastGood);

        int port2 = freePort();
        step("starting the restored cluster (port " + port2 + ") and replaying WAL to the target");
        startRestored(restored, port2);
        waitFor(Duration.ofSeconds(180), "recovery to finish and the cluster to be promoted",
                () -> sql(port2, "select pg_is_in_recovery()").equals("f"));
        String count = sql(port2, "select count(*) from orders");
        String mistake = sql(port2, "select count(*) from pg_class where relname = 'after_the_mistake'");
        out.println();
        out.println("  orders is back: " + count + " rows (10,500 expected); the table created after the mistake exists: "
                + (mistake.equals("0") ? "no" : "yes"));
        if (!count.equals("10500") || !mistake.equals("0")) {
            throw new QuickstartFailure("the restored cluster does not hold what it should: " + count + " orders");
        }
        out.println("  done: a point-in-time restore, end to end.");
    }

    // ---------------------------------------------------------------- pieces

    private Path installLauncher() throws IOException {
        String given = io.tidemark.shim.restore.RecoveryConfig.launcher(System.getenv());
        if (!given.startsWith("/") || !Files.isExecutable(Path.of(given))) {
            throw new QuickstartFailure("run the quickstart through bin/tidemark (it tells the shim where it is)");
        }
        repoLauncher = Path.of(given).toAbsolutePath();
        if (exec.runAsUser() == null) {
            return repoLauncher;
        }
        // PostgreSQL runs archive_command as its own user, who may not be able to read this
        // checkout (e.g. under /root): install a copy where it can, as an operator would.
        Path root = repoLauncher.getParent().getParent();
        Path install = work.resolve("shim");
        copyTree(root.resolve("bin"), install.resolve("bin"));
        for (String part : List.of("node-shim/target/lib", "node-shim/target/native")) {
            if (Files.isDirectory(root.resolve(part))) {
                copyTree(root.resolve(part), install.resolve(part));
            }
        }
        Files.copy(root.resolve("node-shim/target/tidemark-node-shim.jar"), install.resolve("node-shim/target/tidemark-node-shim.jar"));
        return install.resolve("bin/tidemark");
    }

    private Path startCloud() throws IOException {
        Path dir = work.resolve("cloud");
        Path log = work.resolve("local-cloud.log");
        ProcessBuilder pb = new ProcessBuilder(repoLauncher.toString(), "local-cloud", "--dir", dir.toString(),
                "--s3-port", "0", "--api-port", "0", "--dynamodb-port", "0", "--credentials-port", "0",
                // tidemark.conf is then a node config of this stanza: its node role's credentials.uri
                "--stanza", STANZA)
                .redirectErrorStream(true).redirectOutput(log.toFile());
        cloud = pb.start();
        waitFor(Duration.ofSeconds(90), "the local cloud to start", () -> {
            if (!cloud.isAlive()) {
                throw new QuickstartFailure("local-cloud exited: " + tail(log));
            }
            return tail(log).contains("ready");
        });
        Path node = work.resolve("node");
        Path spool = node.resolve("spool");
        Files.createDirectories(spool);
        Path conf = node.resolve("tidemark.conf");
        Files.writeString(conf, Files.readString(dir.resolve("tidemark.conf")) + "\nspool.dir=" + spool + "\n");
        Files.setPosixFilePermissions(node, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setPosixFilePermissions(conf, PosixFilePermissions.fromString("rw-r--r--"));
        giveToRunUser(spool);
        return conf;
    }

    private void initCluster(Path data, int port, Map<String, String> settings) throws IOException {
        Files.createDirectories(data);
        Files.setPosixFilePermissions(data, PosixFilePermissions.fromString("rwx------"));
        giveToRunUser(data);
        exec.require(work, Map.of(), List.of(bin.resolve("initdb").toString(), "-D", data.toString(), "-U", "postgres",
                "-A", "trust", "--data-checksums", "-E", "UTF8", "--locale=C"), 120, "initdb");
        StringBuilder conf = new StringBuilder("\n# quickstart\n");
        Map<String, String> all = new HashMap<>(settings);
        all.put("port", Integer.toString(port));
        all.put("listen_addresses", "127.0.0.1");
        all.put("unix_socket_directories", run.toString());
        all.forEach((k, v) -> conf.append(k).append(" = '").append(v.replace("'", "''")).append("'\n"));
        Files.writeString(data.resolve("postgresql.conf"), conf, StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.APPEND);
    }

    private void startCluster(Path data, int port) {
        clusters.add(data);
        exec.require(work, Map.of(), List.of(bin.resolve("pg_ctl").toString(), "-D", data.toString(), "-l",
                run.resolve(data.getFileName() + ".log").toString(), "-o", "-p " + port, "-w", "-t", "120", "start"),
                180, "starting PostgreSQL in " + data);
    }

    private void startRestored(Path data, int port) {
        clusters.add(data);
        // -w returns once the server accepts connections, which during recovery may be only after
        // it reached consistency; recovery itself is awaited above through pg_is_in_recovery().
        exec.require(work, Map.of(), List.of(bin.resolve("pg_ctl").toString(), "-D", data.toString(), "-l",
                run.resolve(data.getFileName() + ".log").toString(), "-o", "-p " + port + " -c listen_addresses=127.0.0.1"
                        + " -c unix_socket_directories=" + run, "-w", "-t", "300", "start"),
                320, "starting the restored cluster (log: " + run.resolve(data.getFileName() + ".log") + ")");
    }

    private void stopCluster(Path data) {
        exec.run(work, Map.of(), List.of(bin.resolve("pg_ctl").toString(), "-D", data.toString(), "-m", "fast", "-w", "stop"), 120);
        clusters.remove(data);
    }

    private Map<String, String> pgEnv(int port, Path data) {
        return Map.of("PGHOST", "127.0.0.1", "PGPORT", Integer.toString(port), "PGUSER", "postgres",
                "PGDATA", data.toString());
    }

    private String sql(int port, String sql) {
        return exec.require(work, Map.of(), List.of(bin.resolve("psql").toString(), "-X", "-At", "-h", "127.0.0.1", "-p",
                Integer.toString(port), "-U", "postgres", "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-c", sql), 120,
                "SQL '" + sql + "'").out().strip();
    }

    private Exec.Result shim(Map<String, String> env, String command, String what, String... args) {
        List<String> cmd = new ArrayList<>(List.of(launcher.toString(), command));
        cmd.addAll(List.of(args));
        Exec.Result r = exec.run(work, env, cmd, 600);
        if (r.code() != 0) {
            throw new QuickstartFailure("tidemark " + command + " (" + what + ") failed: " + r.both());
        }
        return r;
    }

    private boolean backupValid(Map<String, String> env, Path conf) {
        Exec.Result r = exec.run(work, env, List.of(launcher.toString(), "info", "--output", "json", "--config", conf.toString(),
                "--stanza", STANZA), 60);
        if (r.code() != 0) {
            return false;
        }
        try {
            JsonNode backups = JSON.readTree(r.out()).path("backups");
            for (JsonNode b : backups) {
                String status = b.path("status").asText();
                if (status.equals("invalid")) {
                    throw new QuickstartFailure("the cloud found the backup invalid: " + b.path("reasons"));
                }
                if (status.equals("valid")) {
                    return true;
                }
            }
            return false;
        } catch (IOException e) {
            return false;
        }
    }

    private void stopEverything() {
        for (Path data : List.copyOf(clusters)) {
            try {
                stopCluster(data);
            } catch (RuntimeException ignored) {
                // best effort
            }
        }
        if (cloud != null && cloud.isAlive()) {
            cloud.destroy();
            try {
                cloud.waitFor(20, java.util.concurrent.TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            cloud.destroyForcibly();
        }
    }

    private void step(String text) {
        out.println("==> " + text);
        out.flush();
    }

    private void giveToRunUser(Path p) throws IOException {
        if (exec.runAsUser() != null) {
            UserPrincipal user = p.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName(exec.runAsUser());
            Files.setOwner(p, user);
        }
    }

    private static void waitFor(Duration timeout, String what, BooleanSupplier done) {
        long end = System.nanoTime() + timeout.toNanos();
        while (!done.getAsBoolean()) {
            if (System.nanoTime() > end) {
                throw new QuickstartFailure("gave up waiting for " + what + " after " + timeout.toSeconds() + " s");
            }
            sleep(300);
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new QuickstartFailure("interrupted");
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static String tail(Path log) {
        try {
            String s = Files.exists(log) ? Files.readString(log) : "";
            return s.length() > 2000 ? s.substring(s.length() - 2000) : s;
        } catch (IOException e) {
            return "";
        }
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> s = Files.walk(from)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                    Files.setPosixFilePermissions(target, PosixFilePermissions.fromString("rwxr-xr-x"));
                } else {
                    Files.copy(p, target, java.nio.file.StandardCopyOption.COPY_ATTRIBUTES);
                    Files.setPosixFilePermissions(target, PosixFilePermissions.fromString(
                            Files.isExecutable(p) ? "rwxr-xr-x" : "rw-r--r--"));
                }
            }
        }
    }

    private static void deleteTree(Path dir) {
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException | UncheckedIOException ignored) {
            // best effort
        }
    }
}
