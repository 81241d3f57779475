package io.tidemark.e2e.backup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tidemark.e2e.CloudFixture;
import io.tidemark.e2e.ShimInstall;
import io.tidemark.e2e.ShimProcess;
import io.tidemark.events.backup.BackupManifest;
import io.tidemark.events.backup.ManifestFile;
import io.tidemark.events.layout.BackupLabelName;
import io.tidemark.events.layout.StanzaName;
import io.tidemark.events.layout.StorageLayout;
import io.tidemark.shim.config.ShimConfig;
import io.tidemark.shim.storage.CredentialSource;
import io.tidemark.shim.storage.ObjectStore;
import io.tidemark.shim.storage.Stores;
import io.tidemark.testkit.FileTrees;
import io.tidemark.testkit.PgCluster;
import io.tidemark.testkit.PgTest;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * {@code tidemark backup} on real clusters against the local cloud with the real functions: full,
 * diff and incr of a pgbench database, each validated by the cloud and restored by hand; backup
 * from a streaming replica; the lease; damage found by the validator.
 */
@PgTest
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class BackupE2eTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern COMPLETE = Pattern.compile("backup (\\S+) \\((full|diff|incr)\\) complete");
    private static final StanzaName STANZA = StanzaName.of("main");

    private Path dir;
    private CloudFixture cloud;
    private Path conf;
    private PgCluster primary;
    private Path tablespaceDir;
    private ObjectStore store;
    private final HttpClient http = HttpClient.newHttpClient();
    private final List<BackupLabelName> taken = new ArrayList<>();
    private String lastOutput = "";

    @BeforeAll
    void setUp() throws Exception {
        dir = Files.createTempDirectory(Path.of("/tmp"), "tidemark-e2e-backup-",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
        cloud = new CloudFixture(dir.resolve("cloud")).start();
        conf = cloud.nodeConfig(dir.resolve("node"), "main", "");
        String launcher = ShimInstall.get().launcher().toString();
        primary = PgCluster.builder().dataChecksums(true)
                .setting("archive_mode", "on")
                .setting("archive_command", launcher + " archive-push %p --config " + conf)
                .build().start();
        tablespaceDir = dir.resolve("ts-primary");
        Files.createDirectories(tablespaceDir);
        primary.runAs().giveOwnership(tablespaceDir);
        ShimProcess.Result r = shim(primary, "stanza-create");
        assertEquals(0, r.code(), r.toString());
        ShimConfig config = ShimConfig.load(io.tidemark.shim.config.CommonOptions.parse("--config", conf.toString()),
                Map.of());
        store = Stores.open(config, CredentialSource.of(config, Map.of()));
    }

    @AfterAll
    void tearDown() {
        if (primary != null) {
            primary.close();
        }
        if (cloud != null) {
            cloud.close();
        }
        if (dir != null) {
            FileTrees.deleteQuietly(dir);
        }
    }

    private ShimProcess.Result shim(PgCluster pg, String command, String... more) {
        List<String> args = new ArrayList<>(List.of(command, "--config", conf.toString(), "--pg-port", String.valueOf(pg.port()),
                "--pg-user", "postgres"));
        args.addAll(List.of(more));
        return ShimProcess.run(dir, Map.of(), args.toArray(String[]::new));
    }

    private BackupLabelName backup(PgCluster pg, String... options) {
        long t0 = System.nanoTime();
        ShimProcess.Result r = shim(pg, "backup", options);
        System.out.printf("tidemark backup %s: %.1f s%n%s%s%n", String.join(" ", options), (System.nanoTime() - t0) / 1e9,
                r.out(), r.err());
        assertEquals(0, r.code(), r.toString());
        lastOutput = r.out();
        Matcher m = COMPLETE.matcher(r.out());
        assertTrue(m.find(), r.toString());
        BackupLabelName label = BackupLabelName.parse(m.group(1));
        taken.add(label);
        return label;
    }

    private void pgbench(String... args) {
        List<String> cmd = new ArrayList<>(List.of(primary.bin("pgbench").toString(), "-h", primary.socketDir().toString(),
                "-p", String.valueOf(primary.port()), "-U", "postgres"));
        cmd.addAll(List.of(args));
        cmd.add("postgres");
        primary.run(cmd, Duration.ofMinutes(3));
    }

    private static String state(PgCluster pg) {
        return pg.sql("select (select count(*) || ':' || sum(abalance) from pgbench_accounts) || '/'"
                + " || (select count(*) || ':' || coalesce(sum(delta), 0) from pgbench_history) || '/'"
                + " || (select sum(bbalance) from pgbench_branches) || '/' || (select count(*) from ts_table)"
                );
    }

    private JsonNode stanzaDoc() {
        return cloud.stanzaDocument(STANZA.toString());
    }

    private JsonNode awaitStatus(BackupLabelName label, String status) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        JsonNode last = null;
        while (System.nanoTime() < deadline) {
            for (JsonNode b : stanzaDoc().path("backups")) {
                if (b.path("label").asText().equals(label.toString())) {
                    last = b;
                    if (b.path("status").asText().equals(status)) {
                        return b;
                    }
                }
            }
            Thread.sleep(250);
        }
        throw new AssertionError("backup " + label + " did not become " + status + ": " + last);
    }

    /** Restores {@code label} by hand into a new cluster, starts it to the backup's consistent point and returns its state. */
    private String restoreAndRead(BackupLabelName label) throws Exception {
        String launcher = ShimInstall.get().launcher().toString();
        try (PgCluster restored = PgCluster.builder().emptyDataDir()
                .setting("archive_mode", "off")
                .setting("restore_command", launcher + " archive-get %f %p --config " + conf + " --stanza main")
                .setting("recovery_target", "immediate")
                .setting("recovery_target_action", "promote")
                .build()) {
            Path ts = restored.baseDir().resolve("tablespaces");
            BackupManifest m = new ManualRestore(store, STANZA).restore(label, restored.dataDir(), ts, restored.runAs());
            assertFalse(m.tablespaces().isEmpty(), "the backup lists the tablespace");
            restored.start();
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (!restored.sql("select pg_is_in_recovery()").equals("f")) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("restored " + label + " did not finish recovery\n" + restored.logContext());
                }
                Thread.sleep(200);
            }
            assertEquals("0", restored.sql("select count(*) from unlogged_table"), "unlogged tables restore empty");
            return state(restored);
        }
    }

    @Test
    @Order(1)
    void fullDiffIncrAreValidAndRestoreToTheirData() throws Exception {
        primary.sql("create tablespace ts location '" + tablespaceDir + "'");
        primary.sql("create table ts_table tablespace ts as select g from generate_series(1, 5000) g");
        primary.sql("create unlogged table unlogged_table as select g from generate_series(1, 5000) g");
        pgbench("-i", "-s", "5", "-q");
        String atFull = state(primary);
        // A later backup references a file only if its modification time is more than
        // BackupPlanner.MTIME_MARGIN_SECONDS (2 s) older than the start of the backup that stored
        // it. On a fast machine initdb, the setup and pgbench -i all fall within those 2 s, and the
        // diff below would (rightly) store every file again: let the files age past the margin.
        Thread.sleep(2500);
        long t0 = System.nanoTime();
        BackupLabelName full = backup(primary, "--type", "full");
        System.out.printf("full backup of pgbench scale 5: %.1f s (command, JVM start included)%n", (System.nanoTime() - t0) / 1e9);
        assertTrue(full.isFull());
        JsonNode fullEntry = awaitStatus(full, "valid");
        assertEquals("full", fullEntry.path("type").asText());

        pgbench("-n", "-c", "2", "-t", "300");
        primary.sql("insert into ts_table select g from generate_series(1, 100) g");
        String atDiff = state(primary);
        BackupLabelName diff = backup(primary, "--type", "diff");
        assertEquals(BackupLabelName.Type.DIFF, diff.type());
        JsonNode diffEntry = awaitStatus(diff, "valid");
        assertEquals(full.toString(), diffEntry.path("prior").asText());

        pgbench("-n", "-c", "2", "-t", "300");
        String atIncr = state(primary);
        BackupLabelName incr = backup(primary); // default: incr
        assertEquals(BackupLabelName.Type.INCR, incr.type());
        JsonNode incrEntry = awaitStatus(incr, "valid");
        assertEquals(diff.toString(), incrEntry.path("prior").asText());

        ManualRestore reader = new ManualRestore(store, STANZA);
        BackupManifest incrManifest = reader.manifest(incr);
        assertTrue(incrManifest.references().contains(full), "unchanged files stay with the full: " + incrManifest.references());
        assertTrue(incrManifest.deltaSize() < incrManifest.originalSize(), "an incremental stores only what changed");
        assertTrue(incrManifest.files().stream().filter(f -> !f.reference().equals(incr)).count()
                > incrManifest.files().size() / 2, "most files are referenced");
        assertTrue(incrManifest.files().stream().noneMatch(f -> f.path().path().startsWith("pg_wal/")), "no WAL in the backup");
        assertTrue(incrManifest.directories().stream().anyMatch(d -> d.path().equals("pg_wal/archive_status")));
        assertTrue(incrManifest.files().stream().anyMatch(f -> f.path().path().equals("backup_label")));
        assertFalse(incrManifest.bundles().isEmpty(), "small files are bundled");

        assertEquals(atFull, restoreAndRead(full), "restored full");
        assertEquals(atDiff, restoreAndRead(diff), "restored diff");
        assertEquals(atIncr, restoreAndRead(incr), "restored incr");
    }

    @Test
    @Order(2)
    void aSecondBackupWhileOneHoldsTheLeaseIsRefused() throws Exception {
        String body = "{\"holder\":\"other-host:4242\",\"label\":\"20200101-000000F\",\"ttlSeconds\":60}";
        HttpResponse<String> r = cloud.api("POST", "/stanzas/main/backup-lease", body);
        assertEquals(200, r.statusCode(), r.body());
        String leaseId = JSON.readTree(r.body()).path("leaseId").asText();
        try {
            ShimProcess.Result b = shim(primary, "backup", "--type", "full");
            assertEquals(1, b.code(), b.toString());
            assertTrue(b.err().contains("is running on other-host:4242"), b.toString());
        } finally {
            cloud.api("DELETE", "/stanzas/main/backup-lease?leaseId=" + leaseId, null);
        }
    }

    @Test
    @Order(2)
    void withoutItsApiKeyANodeIsForbiddenAndTheShimSaysToSetApiKey() throws Exception {
        // the stack requires an API key on every method; the enforcing local cloud plays by that rule
        org.junit.jupiter.api.Assumptions.assumeTrue(cloud.cloud().enforcing(),
                "API keys are checked only by the enforcing local cloud (not in the RGW pass)");
        Path keyless = conf.resolveSibling("keyless.conf");
        java.nio.file.Files.writeString(keyless, java.nio.file.Files.readString(conf).replaceAll("(?m)^api\\.key=.*$", ""));
        ShimProcess.Result r = ShimProcess.run(dir, Map.of(), "info", "--config", keyless.toString());
        assertEquals(1, r.code(), r.toString());
        assertTrue(r.err().contains("HTTP 403: Forbidden: API Gateway refused the API key (x-api-key): none was sent;"
                + " set api.key in tidemark.conf"), r.toString());
        HttpResponse<String> raw = cloud.api("GET", "/stanzas/main", null, null);
        assertEquals(403, raw.statusCode(), raw.body());
        assertEquals("{\"message\":\"Forbidden\"}", raw.body());
    }

    @Test
    @Order(3)
    void aReplicaSkipsUnlessAskedAndBacksUpFromStandby() throws Exception {
        try (PgCluster replica = PgCluster.builder().emptyDataDir().build()) {
            replica.run(List.of(primary.bin("pg_basebackup").toString(), "-D", replica.dataDir().toString(), "-R",
                    "-X", "stream", "-c", "fast", "-h", primary.socketDir().toString(), "-p", String.valueOf(primary.port()),
                    "-U", "postgres", "--tablespace-mapping=" + tablespaceDir + "=" + replica.baseDir().resolve("ts")));
            replica.start();
            primary.sql("insert into ts_table select g from generate_series(1, 10) g");

            ShimProcess.Result skipped = shim(replica, "backup");
            assertEquals(0, skipped.code(), skipped.toString());
            assertTrue(skipped.out().contains("skipped: this node is a standby (use --from-standby)"), skipped.toString());

            primary.checkpoint(); // gives the standby a restart point to start the backup from
            BackupLabelName label = backup(replica, "--from-standby");
            // The standby's stop point is archived by the primary: finish its segment.
            primary.sql("select pg_switch_wal()");
            JsonNode entry = awaitStatus(label, "valid");
            assertTrue(entry.path("fromStandby").asBoolean(), entry.toString());
        }
    }

    @Test
    @Order(4)
    void anInterruptedBackupIsNotValidAndResumesWithItsLabelWithoutReplacingAnyObject() throws Exception {
        // A table no later step touches, between pgbench_accounts and everything else in size: one
        // copier process stores the largest units first, so the run cut after two objects has stored
        // exactly pgbench_accounts (changed below) and this table (unchanged, older than the 2 s
        // mtime margin before its read): which stored copies a resume can reuse is then known, not
        // left to autovacuum and checkpoint timing.
        primary.sql("create table resume_frozen with (autovacuum_enabled = false) as"
                + " select g, repeat('f', 100) as pad from generate_series(1, 150000) g");
        primary.sql("vacuum (freeze) resume_frozen");
        primary.sql("checkpoint");
        Thread.sleep(2500); // past BackupPlanner.MTIME_MARGIN_SECONDS, or its copy is rightly distrusted
        List<String> args = new ArrayList<>(List.of("backup", "--config", conf.toString(), "--pg-port",
                String.valueOf(primary.port()), "--pg-user", "postgres", "--type", "full", "--process-max", "1"));
        ShimProcess.Result cut = ShimProcess.run(dir, Map.of("TIDEMARK_TEST_INTERRUPT_AFTER_OBJECTS", "2"),
                args.toArray(String[]::new));
        assertEquals(1, cut.code(), cut.toString());
        assertTrue(cut.err().contains("running the backup again resumes it"), cut.toString());
        Matcher started = Pattern.compile("backup (\\S+) \\(full\\) of").matcher(cut.out());
        assertTrue(started.find(), cut.toString());
        String label = started.group(1);
        for (JsonNode b : stanzaDoc().path("backups")) {
            assertFalse(b.path("label").asText().equals(label), "no manifest, no catalog entry: " + b);
        }
        // What the interrupted run stored; then the largest table changes, so that the resumed run
        // reads other bytes for files whose keys the first run already holds.
        String prefix = StorageLayout.backupPrefix(STANZA, BackupLabelName.parse(label));
        Map<String, String> before = new java.util.HashMap<>();
        for (String key : cloud.objectKeys(prefix)) {
            before.put(key, io.tidemark.shim.storage.CreateOnly.sha256(store.get(key).orElseThrow().data()));
        }
        assertFalse(before.isEmpty(), "the interrupted run stored objects");
        pgbench("-t", "300", "-N");
        primary.sql("checkpoint");
        String atResume = state(primary);

        BackupLabelName resumed = backup(primary, "--type", "full");
        assertEquals(label, resumed.toString());
        Matcher m = Pattern.compile("resuming backup " + label + ": ([0-9]+) files already uploaded").matcher(lastOutput);
        assertTrue(m.find() && Integer.parseInt(m.group(1)) > 0, "the unchanged table's copy is reused: " + lastOutput);
        assertTrue(lastOutput.contains("changed since"), "pgbench_accounts changed: " + lastOutput);
        awaitStatus(resumed, "valid");

        // Nothing the first run stored was replaced (the bucket policy would refuse it too)... except
        // on Ceph RGW, which ignores If-None-Match on a versioned bucket (docs/testing.md): there the
        // node cannot keep itself from replacing, and only the object versions remain.
        boolean createOnlyStorage = !"rgw".equals(System.getProperty(io.tidemark.e2e.ExternalStorage.PROPERTY, ""));
        for (Map.Entry<String, String> e : createOnlyStorage ? before.entrySet() : Set.<Map.Entry<String, String>>of()) {
            assertEquals(e.getValue(), io.tidemark.shim.storage.CreateOnly.sha256(store.get(e.getKey()).orElseThrow().data()),
                    e.getKey() + " was replaced by the resumed run");
        }
        // ...a file re-read with other bytes went to a bundle id no run planned, which the manifest names...
        BackupManifest manifest = new ManualRestore(store, STANZA).manifest(resumed);
        List<ManifestFile> moved = manifest.files().stream().filter(f -> f.bundle().isPresent()
                && before.containsKey(StorageLayout.isKeySafe(f.path())
                        ? StorageLayout.backupFileKey(STANZA, resumed, f.path(), manifest.compression()) : "")).toList();
        assertTrue(!createOnlyStorage || !moved.isEmpty(), "a changed file whose single key was taken is stored in a"
                + " spare bundle: " + manifest.files());
        // ...and the backup restores to the data it was taken of.
        assertEquals(atResume, restoreAndRead(resumed));
    }

    @Test
    @Order(5)
    void damageInS3IsFoundByVerifyNotByUploadingTheManifestAgain() throws Exception {
        BackupLabelName full = taken.get(0);
        ManualRestore reader = new ManualRestore(store, STANZA);
        BackupManifest m = reader.manifest(full);
        ManifestFile victim = m.files().stream().filter(f -> f.bundle().isEmpty() && f.size() > 100_000).findFirst()
                .orElseThrow();
        String key = StorageLayout.backupFileKey(STANZA, full, victim.path(), m.compression());
        ObjectStore.Fetched object = store.get(key).orElseThrow();
        byte[] changed = object.data().clone();
        changed[changed.length / 2] ^= 1;
        cloud.overwrite(key, changed, object.metadata());
        // the same manifest uploaded again: a label is validated once, so it changes nothing...
        String manifestKey = StorageLayout.manifestKey(STANZA, full);
        String before = stanzaDoc().path("backups").toString();
        cloud.overwrite(manifestKey, store.get(manifestKey).orElseThrow().data(), Map.of());
        assertTrue(cloud.awaitQuiescent(Duration.ofMinutes(1)));
        assertEquals(before, stanzaDoc().path("backups").toString(), "the same manifest again is a no-op");
        // ...and verify is what finds the damage: the backup is damaged, the file named
        ShimProcess.Result v = shim(primary, "verify", "--backup", full.toString());
        assertEquals(1, v.code(), v.toString());
        assertTrue(v.out().contains(key), v.toString());
        JsonNode entry = awaitStatus(full, "damaged");
        assertTrue(entry.path("reasons").toString().contains(key), entry.toString());

        // A manifest naming a path outside the data directory.
        ObjectNode evil = (ObjectNode) JSON.readTree(store.get(manifestKey).orElseThrow().data());
        BackupLabelName evilLabel = BackupLabelName.parse("20010101-000000F");
        evil.put("label", evilLabel.toString());
        ((ObjectNode) evil.path("files").get(0)).put("path", "../escape");
        cloud.overwrite(StorageLayout.manifestKey(STANZA, evilLabel), JSON.writeValueAsBytes(evil), Map.of());
        JsonNode evilEntry = awaitStatus(evilLabel, "invalid");
        assertTrue(evilEntry.path("reasons").toString().contains("unsafe path"), evilEntry.toString());
    }
}
