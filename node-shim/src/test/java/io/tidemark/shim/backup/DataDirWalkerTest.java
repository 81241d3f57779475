package io.tidemark.shim.backup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tidemark.events.paths.SafeRelativePath;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@Tag("unit")
class DataDirWalkerTest {
    @TempDir
    Path tmp;

    private void file(Path root, String rel) throws IOException {
        Path p = root.resolve(rel);
        Files.createDirectories(p.getParent());
        Files.writeString(p, rel);
    }

    private void dir(Path root, String rel) throws IOException {
        Files.createDirectories(root.resolve(rel));
    }

    @Test
    void walkAppliesPostgresExclusions() throws IOException {
        Path pg = tmp.resolve("data");
        for (String f : List.of("PG_VERSION", "postgresql.conf", "postgresql.auto.conf", "postmaster.pid", "postmaster.opts",
                "backup_label", "backup_label.old", "tablespace_map", "standby.signal", "recovery.signal", "backup_manifest",
                "current_logfiles.tmp", "tidemark-restore-plan.json", "global/pg_control", "global/1262", "global/pg_internal.init",
                "base/1/1259", "base/1/1259_fsm", "base/1/1259_vm", "base/1/pg_internal.init", "base/1/PG_VERSION",
                "base/5/16384", "base/5/16384.1", "base/5/16384_fsm", "base/5/16384_vm", "base/5/16384_init",
                "base/5/16390", "base/5/16390_init", "base/5/16391", "base/5/16391.1", "base/5/16391_fsm", "base/5/t3_16400", "base/5/t3_16400_fsm", "base/5/t12_16401.1",
                "base/5/pgsql_tmp/pgsql_tmp123.0", "base/pgsql_tmp/pgsql_tmp9.1", "base/5/.DS_Store",
                "pg_wal/000000010000000000000001", "pg_wal/archive_status/000000010000000000000001.done",
                "pg_replslot/slot/state", "pg_stat_tmp/global.stat", "pg_subtrans/0000", "pg_notify/0000",
                "pg_serial/0000", "pg_snapshots/0000-1", "pg_dynshmem/mmap.1", "pg_xact/0000", "pg_logical/replorigin_checkpoint",
                "pg_stat/pgstat.stat", "log/postgresql.log")) {
            file(pg, f);
        }
        dir(pg, "pg_tblspc");
        dir(pg, "pg_commit_ts");
        DataDirWalker.Result r = DataDirWalker.walk(pg);
        Set<String> files = r.files().stream().map(f -> f.path().path()).collect(Collectors.toSet());
        assertEquals(Set.of("PG_VERSION", "postgresql.conf", "postgresql.auto.conf", "global/pg_control", "global/1262",
                "base/1/1259", "base/1/1259_fsm", "base/1/1259_vm", "base/1/PG_VERSION", "base/5/16384_init",
                "base/5/16390_init", "base/5/16391", "base/5/16391.1", "base/5/16391_fsm", "pg_xact/0000",
                "pg_logical/replorigin_checkpoint", "pg_stat/pgstat.stat", "log/postgresql.log"), files);
        Set<String> dirs = r.directories().stream().map(SafeRelativePath::path).collect(Collectors.toSet());
        assertTrue(dirs.containsAll(Set.of("pg_wal", "pg_wal/archive_status", "pg_replslot", "pg_stat_tmp", "pg_subtrans",
                "pg_notify", "pg_serial", "pg_snapshots", "pg_dynshmem", "pg_tblspc", "pg_commit_ts", "base", "base/1",
                "base/5", "global", "pg_xact", "log")), dirs.toString());
        assertFalse(dirs.contains("base/5/pgsql_tmp"));
        assertFalse(dirs.contains("pg_replslot/slot"));
        assertTrue(r.tablespaces().isEmpty());
        assertEquals(r.files().stream().map(SourceFile::path).sorted().toList(), r.files().stream().map(SourceFile::path).toList(),
                "files in path order");
    }

    @Test
    void tablespaceLinksAreWalkedUnderPgTblspc() throws IOException {
        Path pg = tmp.resolve("data");
        Path ts = tmp.resolve("elsewhere/ts1");
        file(pg, "PG_VERSION");
        file(ts, "PG_15_202209061/16384/16500");
        file(ts, "PG_15_202209061/16384/16501");
        file(ts, "PG_15_202209061/16384/16501_init");
        file(ts, "PG_15_202209061/16384/t4_16502");
        dir(pg, "pg_tblspc");
        Files.createSymbolicLink(pg.resolve("pg_tblspc/16399"), ts);
        Path inPlace = pg.resolve("pg_tblspc/16398");
        file(pg, "pg_tblspc/16398/PG_15_202209061/1/17000");
        // pg_wal as a link (initdb -X): kept as an empty directory
        Path walElsewhere = tmp.resolve("wal");
        file(tmp, "wal/000000010000000000000001");
        Files.createSymbolicLink(pg.resolve("pg_wal"), walElsewhere);

        DataDirWalker.Result r = DataDirWalker.walk(pg);
        Set<String> files = r.files().stream().map(f -> f.path().path()).collect(Collectors.toSet());
        assertEquals(Set.of("PG_VERSION", "pg_tblspc/16399/PG_15_202209061/16384/16500",
                "pg_tblspc/16399/PG_15_202209061/16384/16501_init", "pg_tblspc/16398/PG_15_202209061/1/17000"), files);
        assertEquals(List.of(new DataDirWalker.Tablespace(16398, inPlace.toAbsolutePath()),
                new DataDirWalker.Tablespace(16399, ts.toAbsolutePath())), r.tablespaces());
        Set<String> dirs = r.directories().stream().map(SafeRelativePath::path).collect(Collectors.toSet());
        assertTrue(dirs.containsAll(Set.of("pg_tblspc/16399", "pg_tblspc/16399/PG_15_202209061",
                "pg_tblspc/16399/PG_15_202209061/16384", "pg_wal", "pg_wal/archive_status")), dirs.toString());
        SourceFile f = r.files().stream().filter(x -> x.path().path().endsWith("16500")).findFirst().orElseThrow();
        assertEquals(ts.resolve("PG_15_202209061/16384/16500"), f.absolute());
    }

    @Test
    void unsafeNamesAreSkippedAndReported() throws IOException {
        Path pg = tmp.resolve("data");
        file(pg, "PG_VERSION");
        file(pg, "odd\\name");
        DataDirWalker.Result r = DataDirWalker.walk(pg);
        assertEquals(List.of("PG_VERSION"), r.files().stream().map(f -> f.path().path()).toList());
        assertEquals(1, r.skipped().size());
    }

    @Test
    void exclusionPredicates() {
        assertTrue(Exclusions.isTempRelation("t3_16384"));
        assertTrue(Exclusions.isTempRelation("t3_16384_vm.2"));
        assertFalse(Exclusions.isTempRelation("16384"));
        assertTrue(Exclusions.isDatabaseDir("base/5"));
        assertTrue(Exclusions.isDatabaseDir("pg_tblspc/16399/PG_15_202209061/16384"));
        assertFalse(Exclusions.isDatabaseDir("global"));
        assertEquals("16384", Exclusions.initForkOf("16384_init"));
        assertEquals(null, Exclusions.initForkOf("16384_fsm"));
        assertTrue(Exclusions.isUnloggedNonInitFork("16384.3", Set.of("16384")));
        assertFalse(Exclusions.isUnloggedNonInitFork("16384_init", Set.of("16384")));
        assertFalse(Exclusions.isUnloggedNonInitFork("16385", Set.of("16384")));
    }
}
