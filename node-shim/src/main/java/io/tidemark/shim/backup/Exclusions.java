package io.tidemark.shim.backup;

import java.util.Set;
import java.util.regex.Pattern;

/**
 * What a base backup leaves out, as PostgreSQL documents it for base backups ("Backing Up the
 * Data Directory" and {@code BASE_BACKUP}) and pg_basebackup does:
 * <ul>
 *   <li>contents of {@code pg_wal} (the directory and {@code pg_wal/archive_status} are kept: recovery
 *       gets WAL from the archive), {@code pg_dynshmem}, {@code pg_notify}, {@code pg_replslot},
 *       {@code pg_serial}, {@code pg_snapshots}, {@code pg_stat_tmp}, {@code pg_subtrans} (the
 *       directories are kept, empty: the server recreates what it needs in them);</li>
 *   <li>{@code postmaster.pid}, {@code postmaster.opts}, {@code backup_label}, {@code tablespace_map}
 *       (the backup stores the ones {@code pg_backup_stop} returned), {@code backup_manifest},
 *       {@code backup_label.old}, {@code tablespace_map.old}, {@code recovery.signal},
 *       {@code standby.signal} (a restore writes its own), {@code postgresql.auto.conf.tmp},
 *       {@code current_logfiles.tmp};</li>
 *   <li>anywhere: {@code pg_internal.init*} (relation cache, rebuilt at start), {@code pgsql_tmp*}
 *       files and directories, {@code .DS_Store};</li>
 *   <li>in database directories: temporary relations ({@code t<backend>_<relfilenode>...}) and every
 *       fork of an unlogged relation except its {@code _init} fork (found by that {@code _init}
 *       fork beside them): recovery resets unlogged relations from the init fork.</li>
 * </ul>
 */
public final class Exclusions {

    /** Top-level directories kept (empty) without their contents. */
    static final Set<String> CONTENTS_EXCLUDED = Set.of("pg_wal", "pg_dynshmem", "pg_notify", "pg_replslot", "pg_serial",
            "pg_snapshots", "pg_stat_tmp", "pg_subtrans");

    /** Top-level files left out. */
    static final Set<String> TOP_FILES_EXCLUDED = Set.of("postmaster.pid", "postmaster.opts", "backup_label",
            "tablespace_map", "backup_manifest", "backup_label.old", "tablespace_map.old", "recovery.signal",
            "standby.signal", "postgresql.auto.conf.tmp", "current_logfiles.tmp",
            // the plan a restore left for archive-get: it belongs to that restore, not to this cluster
            io.tidemark.shim.archiveget.WalPlan.FILE_NAME);

    private static final Pattern TEMP_RELATION = Pattern.compile("t[0-9]+_[0-9]+(_(fsm|vm|init))?(\\.[0-9]+)?");
    private static final Pattern RELATION_FORK = Pattern.compile("([0-9]+)(_(fsm|vm|init))?(\\.[0-9]+)?");
    private static final Pattern DATABASE_DIR = Pattern.compile("base/[0-9]+|pg_tblspc/[0-9]+/[^/]+/[0-9]+");

    private Exclusions() {
    }

    /** Whether a top-level directory's contents are left out. */
    public static boolean contentsExcluded(String topLevelDir) {
        return CONTENTS_EXCLUDED.contains(topLevelDir);
    }

    /** Whether a file (or directory) named {@code name} in directory {@code parentRel} ("" for PGDATA) is left out. */
    public static boolean excludedByName(String parentRel, String name) {
        if (parentRel.isEmpty() && TOP_FILES_EXCLUDED.contains(name)) {
            return true;
        }
        return name.startsWith("pg_internal.init") || name.startsWith("pgsql_tmp") || name.equals(".DS_Store");
    }

    /** Whether {@code dirRel} is a database directory ({@code base/<oid>} or a tablespace's {@code <version>/<oid>}). */
    public static boolean isDatabaseDir(String dirRel) {
        return DATABASE_DIR.matcher(dirRel).matches();
    }

    /** A temporary relation's file ({@code t3_16384}, {@code t3_16384_fsm}, {@code t3_16384.1}). */
    public static boolean isTempRelation(String name) {
        return TEMP_RELATION.matcher(name).matches();
    }

    /**
     * In a database directory, whether {@code name} is a fork of an unlogged relation other than its
     * init fork; {@code unlogged} holds the relfilenodes that have an {@code _init} fork there.
     */
    public static boolean isUnloggedNonInitFork(String name, Set<String> unlogged) {
        var m = RELATION_FORK.matcher(name);
        if (!m.matches() || !unlogged.contains(m.group(1))) {
            return false;
        }
        return !"_init".equals(m.group(2));
    }

    /** The relfilenode of an init fork file ({@code 16384_init}, {@code 16384_init.1}), or null. */
    public static String initForkOf(String name) {
        var m = RELATION_FORK.matcher(name);
        return m.matches() && "_init".equals(m.group(2)) ? m.group(1) : null;
    }
}
