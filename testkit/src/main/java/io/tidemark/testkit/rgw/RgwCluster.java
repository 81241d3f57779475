package io.tidemark.testkit.rgw;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;

/**
 * A single-node Ceph cluster serving S3 through the RADOS Gateway (Debian's {@code radosgw}),
 * in a temp dir, for tests that need a real S3 implementation: object versions, Object Lock,
 * bucket policies, notifications. One monitor, one OSD on memstore (objects live in the OSD's
 * memory, so nothing touches a disk but the monitor's small store) and radosgw, each on a free
 * port of 127.0.0.1, started in the foreground as children of this JVM and killed by
 * {@link #close()} (or a shutdown hook), which also removes the directory.
 *
 * <p>cephx stays on: with authentication off radosgw never gets past its first monitor
 * request. No ceph-mgr: nothing here needs it. Paxos runs with short proposal intervals, which
 * brings the start from about 12 s down to about 1.5 s.
 */
public final class RgwCluster implements AutoCloseable {

    /** The programs a cluster needs, all from Debian's radosgw, ceph-mon and ceph-osd packages. */
    static final List<String> PROGRAMS = List.of("ceph-mon", "ceph-osd", "radosgw", "radosgw-admin", "ceph",
            "ceph-authtool", "monmaptool");
    public static final String SKIP = "Ceph RGW tests skipped: radosgw is not installed"
            + " (apt-get install radosgw ceph-mon ceph-osd)";
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(60);
    private static final Set<RgwCluster> OPEN = ConcurrentHashMap.newKeySet();
    /**
     * {@code -Dtidemark.rgw.log=DIR}: radosgw logs at {@code debug rgw = 20} (each push of a
     * notification, the queue's lock and listing) and {@link #close()} copies the cluster's logs to
     * {@code DIR/<temp dir name>} before it removes the temp dir. Off by default: a class's log at
     * level 20 runs to tens of MB.
     */
    static final String LOG_PROPERTY = "tidemark.rgw.log";
    private static boolean hookInstalled;

    private final Path dir;
    private final URI endpoint;
    private final List<Process> daemons = new ArrayList<>();
    private Process gateway;
    private Duration startTime;
    private boolean closed;

    private RgwCluster(Path dir, URI endpoint) {
        this.dir = dir;
        this.endpoint = endpoint;
    }

    /** Whether every program a cluster needs is on the PATH. */
    public static boolean installed() {
        return PROGRAMS.stream().allMatch(RgwCluster::onPath);
    }

    /** Aborts the calling test (JUnit assumption) with {@link #SKIP} when radosgw is not installed. */
    public static void assumeInstalled() {
        Assumptions.assumeTrue(installed(), SKIP);
    }

    /**
     * Starts a cluster whose OSD may hold up to {@code memstoreBytes} of data, waits until S3
     * answers, and returns it; fails with the daemon's log tail when it does not come up.
     */
    public static RgwCluster start(long memstoreBytes) {
        assumeInstalled();
        long t0 = System.nanoTime();
        Path dir;
        try {
            dir = Files.createTempDirectory("tidemark-rgw-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        int[] ports = freePorts(3);
        RgwCluster c = new RgwCluster(dir, URI.create("http://127.0.0.1:" + ports[2]));
        register(c);
        try {
            c.bootstrap(ports[0], ports[1], ports[2], memstoreBytes);
            c.awaitS3();
        } catch (RuntimeException | Error e) {
            c.close();
            throw e;
        }
        c.startTime = Duration.ofNanos(System.nanoTime() - t0);
        System.out.printf("Ceph RGW %s started in %d ms (%s)%n", c.endpoint, c.startTime.toMillis(), dir);
        return c;
    }

    private void bootstrap(int monV2, int monV1, int rgwPort, long memstoreBytes) {
        String fsid = UUID.randomUUID().toString();
        String mon = "[v2:127.0.0.1:" + monV2 + ",v1:127.0.0.1:" + monV1 + "]";
        try {
            for (String d : List.of("run", "log", "mon", "osd", "rgw")) {
                Files.createDirectories(dir.resolve(d));
            }
            Files.writeString(conf(), """
                    [global]
                    fsid = %1$s
                    mon host = %2$s
                    mon initial members = a
                    public addr = 127.0.0.1
                    cluster addr = 127.0.0.1
                    run dir = %3$s/run
                    admin socket = %3$s/run/$name.asok
                    log file = %3$s/log/$name.log
                    keyring = %3$s/keyring
                    osd pool default size = 1
                    osd pool default min size = 1
                    osd pool default pg num = 8
                    osd pool default pgp num = 8
                    osd pool default pg autoscale mode = off
                    osd crush chooseleaf type = 0
                    mon allow pool size one = true
                    # the default proposal interval (1 s) is paid on every map change at start
                    paxos propose interval = 0.05
                    paxos min wait = 0.01
                    [mon.a]
                    mon data = %3$s/mon
                    [osd.0]
                    osd data = %3$s/osd
                    osd objectstore = memstore
                    memstore device bytes = %4$d
                    [client.rgw]
                    rgw frontends = beast endpoint=127.0.0.1:%5$d
                    rgw data = %3$s/rgw
                    # about 600 threads otherwise; tests send a few requests at a time
                    rgw thread pool size = 64
                    """.formatted(fsid, mon, dir, memstoreBytes, rgwPort) + debugLog());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        String keyring = dir.resolve("keyring").toString();
        run("ceph-authtool", "--create-keyring", keyring, "--gen-key", "-n", "mon.", "--cap", "mon", "allow *");
        run("ceph-authtool", keyring, "--gen-key", "-n", "client.admin", "--cap", "mon", "allow *",
                "--cap", "osd", "allow *", "--cap", "mgr", "allow *");
        run("ceph-authtool", keyring, "--gen-key", "-n", "osd.0", "--cap", "mon", "allow profile osd",
                "--cap", "osd", "allow *", "--cap", "mgr", "allow profile osd");
        run("ceph-authtool", keyring, "--gen-key", "-n", "client.rgw", "--cap", "mon", "allow rw",
                "--cap", "osd", "allow rwx");
        run("monmaptool", "--create", "--addv", "a", mon, "--fsid", fsid, dir.resolve("monmap").toString());
        run("ceph-mon", "-c", conf().toString(), "-i", "a", "--mkfs", "--monmap", dir.resolve("monmap").toString(),
                "--keyring", keyring);
        daemon("mon", "ceph-mon", "-f", "-c", conf().toString(), "-i", "a");
        String osdUuid = UUID.randomUUID().toString();
        run("ceph", "-c", conf().toString(), "osd", "new", osdUuid, "0");
        run("ceph-osd", "-c", conf().toString(), "-i", "0", "--mkfs", "--osd-uuid", osdUuid);
        daemon("osd", "ceph-osd", "-f", "-c", conf().toString(), "-i", "0");
        startGateway();
    }

    /**
     * Stops radosgw alone (an S3 outage: connections are refused); the data, users, topics and
     * queued notifications stay in the cluster. {@link #startGateway()} ends the outage.
     */
    public synchronized void stopGateway() {
        if (gateway == null) {
            return;
        }
        daemons.remove(gateway);
        gateway.destroy();
        try {
            if (!gateway.waitFor(10, TimeUnit.SECONDS)) {
                gateway.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            gateway.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        gateway = null;
    }

    /**
     * Breaks every lock on a RADOS object ({@code rados lock break}). radosgw keeps a lock on each
     * persistent notification queue it serves and renews it; after a gateway is killed its
     * successor waits for the lock to expire (up to about two minutes) before it pushes that
     * queue's events again.
     */
    public void breakLocks(String pool, String namespace, String object) {
        String[] base = {"rados", "-c", conf().toString(), "-n", "client.admin", "-p", pool, "-N", namespace};
        String locks = output(concat(base, "lock", "list", object));
        java.util.regex.Matcher name = java.util.regex.Pattern.compile("\\{\"name\":\"([^\"]+)\"\\}").matcher(locks);
        while (name.find()) {
            String info = output(concat(base, "lock", "info", object, name.group(1)));
            java.util.regex.Matcher locker = java.util.regex.Pattern
                    .compile("\"name\":\"([^\"]+)\",\"cookie\":\"([^\"]*)\"").matcher(info);
            while (locker.find()) {
                run(concat(base, "lock", "break", object, name.group(1), locker.group(1),
                        "--lock-cookie", locker.group(2)));
            }
        }
    }

    private static String debugLog() {
        // [client.rgw] is the last section of the file
        return System.getProperty(LOG_PROPERTY) == null ? "" : "debug rgw = 20\n";
    }

    /** With {@link #LOG_PROPERTY} set, copies the logs (daemon logs and outputs) out of the temp dir. */
    private void keepLogs() {
        String to = System.getProperty(LOG_PROPERTY);
        if (to == null) {
            return;
        }
        Path target = Path.of(to).resolve(dir.getFileName());
        try (Stream<Path> logs = Files.list(dir.resolve("log"))) {
            Files.createDirectories(target);
            for (Path log : logs.toList()) {
                Files.copy(log, target.resolve(log.getFileName()), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
            System.out.println("Ceph RGW logs kept in " + target);
        } catch (IOException e) {
            System.err.println("tidemark testkit: cannot keep the RGW logs in " + target + ": " + e.getMessage());
        }
    }

    private static String[] concat(String[] a, String... b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /** Starts radosgw (again) on the same port and waits until S3 answers. */
    public synchronized void startGateway() {
        if (gateway != null) {
            return;
        }
        daemon("rgw", "radosgw", "-f", "-c", conf().toString(), "-n", "client.rgw");
        gateway = daemons.getLast();
        if (startTime != null) {
            awaitS3();
        }
    }

    /** Polls an anonymous {@code GET /} until radosgw answers 200 (it lists no buckets). */
    private void awaitS3() {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        String last = "no answer";
        while (System.nanoTime() < deadline) {
            for (Process p : daemons) {
                if (!p.isAlive()) {
                    throw new IllegalStateException("Ceph RGW: " + p.info().command().orElse("a daemon")
                            + " exited with " + p.exitValue() + " during start; " + logTail());
                }
            }
            try {
                HttpResponse<Void> r = http.send(HttpRequest.newBuilder(endpoint.resolve("/"))
                        .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.discarding());
                if (r.statusCode() == 200) {
                    return;
                }
                last = "HTTP " + r.statusCode();
            } catch (IOException e) {
                last = e.toString();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for Ceph RGW", e);
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for Ceph RGW", e);
            }
        }
        throw new IllegalStateException("Ceph RGW at " + endpoint + " not ready after " + READY_TIMEOUT.toSeconds()
                + " s (" + last + "); " + logTail());
    }

    /** Creates an S3 user with this key pair ({@code radosgw-admin user create}). */
    public void createUser(String uid, String accessKeyId, String secretAccessKey) {
        run("radosgw-admin", "-c", conf().toString(), "-n", "client.admin", "user", "create", "--uid", uid,
                "--display-name", uid, "--access-key", accessKeyId, "--secret-key", secretAccessKey);
    }

    public URI endpoint() {
        return endpoint;
    }

    public Path dir() {
        return dir;
    }

    /** From the start of {@link #start} until S3 answered. */
    public Duration startTime() {
        return startTime;
    }

    /** The resident memory of the three daemons together, in KiB (from /proc). */
    public long residentKib() {
        long sum = 0;
        for (Process p : daemons) {
            try {
                for (String line : Files.readAllLines(Path.of("/proc", Long.toString(p.pid()), "status"))) {
                    if (line.startsWith("VmRSS:")) {
                        sum += Long.parseLong(line.replaceAll("\\D", ""));
                    }
                }
            } catch (IOException | NumberFormatException e) {
                // the daemon is gone: it holds no memory
            }
        }
        return sum;
    }

    /** Kills radosgw, the OSD and the monitor (in that order) and removes the directory. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        OPEN.remove(this);
        for (Process p : daemons.reversed()) {
            p.destroy();
        }
        for (Process p : daemons.reversed()) {
            try {
                if (!p.waitFor(5, TimeUnit.SECONDS)) {
                    p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                p.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
        keepLogs();
        deleteTree(dir);
    }

    @Override
    public String toString() {
        return "RgwCluster[" + endpoint + ", " + dir + "]";
    }

    private Path conf() {
        return dir.resolve("ceph.conf");
    }

    private void daemon(String name, String... command) {
        try {
            daemons.add(new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("log").resolve(name + ".out").toFile()))
                    .start());
        } catch (IOException e) {
            throw new IllegalStateException("cannot start " + command[0] + ": " + e.getMessage(), e);
        }
    }

    private void run(String... command) {
        Path out = dir.resolve("log").resolve("setup.out");
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(out.toFile())).start();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("Ceph RGW setup: " + String.join(" ", command) + " took over 60 s");
            }
            if (p.exitValue() != 0) {
                throw new IllegalStateException("Ceph RGW setup: " + command[0] + " " + command[command.length - 1]
                        + " exited with " + p.exitValue() + ": " + tail(out));
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot run " + command[0] + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted running " + command[0], e);
        }
    }

    private String output(String... command) {
        try {
            Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
            String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IllegalStateException("Ceph RGW: " + String.join(" ", command) + " failed: " + out);
            }
            return out;
        } catch (IOException e) {
            throw new IllegalStateException("cannot run " + command[0] + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted running " + command[0], e);
        }
    }

    private String logTail() {
        return "radosgw log: " + tail(dir.resolve("log").resolve("client.rgw.log"));
    }

    private static String tail(Path file) {
        try {
            List<String> lines = Files.readAllLines(file);
            return String.join(" | ", lines.subList(Math.max(0, lines.size() - 5), lines.size()));
        } catch (IOException e) {
            return "(" + file + " unreadable: " + e.getMessage() + ")";
        }
    }

    private static boolean onPath(String program) {
        String path = System.getenv().getOrDefault("PATH", "/usr/bin:/bin");
        for (String d : path.split(":")) {
            if (!d.isEmpty() && Files.isExecutable(Path.of(d, program))) {
                return true;
            }
        }
        return false;
    }

    private static int[] freePorts(int n) {
        List<ServerSocket> held = new ArrayList<>();
        try {
            int[] ports = new int[n];
            for (int i = 0; i < n; i++) {
                ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress());
                held.add(s);
                ports[i] = s.getLocalPort();
            }
            return ports;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            for (ServerSocket s : held) {
                try {
                    s.close();
                } catch (IOException ignored) {
                    // only held to get distinct ports
                }
            }
        }
    }

    private static synchronized void register(RgwCluster c) {
        if (!hookInstalled) {
            Runtime.getRuntime().addShutdownHook(new Thread(() -> List.copyOf(OPEN).forEach(RgwCluster::close),
                    "tidemark-rgw-reaper"));
            hookInstalled = true;
        }
        OPEN.add(c);
    }

    private static void deleteTree(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(root)) {
            walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    // reported below if the directory stays
                }
            });
        } catch (IOException e) {
            System.err.println("tidemark testkit: cannot remove " + root + ": " + e.getMessage());
        }
    }
}
