package io.tidemark.shim.restore;

import io.tidemark.events.backup.ManifestTablespace;
import io.tidemark.events.paths.SafeRelativePath;
import io.tidemark.events.plan.PlanFile;
import io.tidemark.events.plan.RestorePlan;
import io.tidemark.shim.restore.RestoreCommand.Prepared;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Restore, step 2: every path of the verified plan mapped to where it goes on this host (PGDATA,
 * tablespace locations) and proven safe, before anything is written: no file below a file, no
 * link on the way, no tablespace location the operator did not name or this host does not show,
 * no non-empty tablespace directory unless --delta.
 */
final class PlanPaths {
    private PlanPaths() {
    }

    static Prepared prepare(RestorePlan plan, Path pgdata, Map<Long, Path> tsMap, boolean delta) {
        DataDirCheck.check(pgdata, plan, delta);
        RestoreLayout layout = RestoreLayout.of(pgdata, plan.tablespaces(), tsMap);
        refuseUnmappedTablespaces(plan, layout.pgdata(), tsMap);
        if (plan.tablespaceMap().isPresent()) {
            Set<Long> inMap = new TreeSet<>(RestoreLayout.mapOids(plan.tablespaceMap().get()));
            if (!inMap.equals(new TreeSet<>(layout.tablespaces().keySet()))) {
                throw new RestoreRefused("the plan's tablespace_map names tablespaces " + inMap + " but its tablespace list has "
                        + layout.tablespaces().keySet());
            }
        }
        List<String> notes = new ArrayList<>();
        Set<String> filePaths = new HashSet<>();
        for (PlanFile f : plan.files()) {
            filePaths.add(f.path().path());
        }
        List<Downloader.Item> files = new ArrayList<>();
        for (PlanFile f : plan.files()) {
            refuseFileAncestor(f.path(), filePaths);
            if (RestoreCommand.NOT_RESTORED.contains(f.path().path())) {
                if (f.path().path().equals("backup_label") && !f.sha256().equals(sha256(plan.backupLabelFile()))) {
                    notes.add("the backup's file list has a backup_label that differs from the plan's; the plan's is written");
                } else if (!f.path().path().equals("backup_label") && !f.path().path().equals("tablespace_map")) {
                    notes.add("not restoring " + f.path() + " (a file of the running server, not of the backup)");
                }
                continue;
            }
            RestoreLayout.Target t = layout.target(f.path());
            if (t instanceof RestoreLayout.TablespaceLink l) {
                throw new RestoreRefused("path " + f.path() + " is a file in the plan, but it is the link of tablespace "
                        + l.tablespace().oid());
            }
            layout.checkNoLinks(t);
            files.add(new Downloader.Item(f, ((RestoreLayout.InTree) t).file()));
        }
        List<RestoreLayout.InTree> dirs = new ArrayList<>();
        for (SafeRelativePath d : plan.directories()) {
            refuseFileAncestor(d, filePaths);
            if (filePaths.contains(d.path())) {
                throw new RestoreRefused("path " + d + " is listed both as a file and as a directory");
            }
            RestoreLayout.Target t = layout.target(d);
            layout.checkNoLinks(t);
            if (t instanceof RestoreLayout.InTree in) {
                dirs.add(in);
            }
        }
        List<RestoreLayout.TablespaceLink> links = new ArrayList<>();
        for (RestoreLayout.Tablespace ts : layout.tablespaces().values()) {
            RestoreLayout.Target t = layout.target(SafeRelativePath.of("pg_tblspc/" + ts.oid()));
            layout.checkNoLinks(t);
            links.add((RestoreLayout.TablespaceLink) t);
            if (!delta) {
                for (Path v : versionDirs(ts, files, dirs)) {
                    if (Files.exists(v, LinkOption.NOFOLLOW_LINKS) && (!Files.isDirectory(v, LinkOption.NOFOLLOW_LINKS)
                            || !DataDirCheck.isEmpty(v))) {
                        throw new RestoreRefused("tablespace " + ts.oid() + ": " + v + " is not empty: remove it, map the"
                                + " tablespace elsewhere with --tablespace-map " + ts.oid() + "=DIR, or use --delta");
                    }
                }
            }
        }
        return new Prepared(layout, files, dirs, links, notes);
    }

    /**
     * A tablespace location comes from the backup's manifest, which the source node wrote: a
     * compromised node can name any directory of the restore host there. So each location is
     * used only when the operator named it ({@code --tablespace-map}) or when this host is shown
     * to be the one the backup came from: PGDATA holds the same cluster (its pg_control's system
     * identifier is the plan's; only with {@code --delta}, as PGDATA must otherwise be empty) and
     * its {@code pg_tblspc/<oid>} link already points at that very location. Refused before
     * anything is written, naming every tablespace to map.
     */
    static void refuseUnmappedTablespaces(RestorePlan plan, Path pgdata, Map<Long, Path> tsMap) {
        boolean sameCluster = DataDirCheck.systemIdentifier(pgdata).map(plan.systemIdentifier()::equals).orElse(false);
        List<String> unmapped = new ArrayList<>();
        for (ManifestTablespace t : plan.tablespaces()) {
            if (tsMap.containsKey(t.oid()) || (sameCluster && linksTo(pgdata.resolve("pg_tblspc").resolve(Long.toString(t.oid())),
                    t.location()))) {
                continue;
            }
            unmapped.add("--tablespace-map " + t.oid() + "=DIR (tablespace " + t.name() + ", at " + t.location()
                    + " on the backup's host)");
        }
        if (!unmapped.isEmpty()) {
            throw new RestoreRefused("the backup has " + unmapped.size() + " tablespace(s) whose location comes from the"
                    + " backup's manifest, and this data directory does not show this host as the one that took it"
                    + " (same cluster with the same tablespace links, under --delta): name where each goes on this host: "
                    + String.join(", ", unmapped) + ". Nothing was written");
        }
    }

    private static boolean linksTo(Path link, String location) {
        try {
            return Files.isSymbolicLink(link) && Files.readSymbolicLink(link).equals(Path.of(location));
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    private static void refuseFileAncestor(SafeRelativePath p, Set<String> filePaths) {
        String s = p.path();
        for (int i = s.indexOf('/'); i >= 0; i = s.indexOf('/', i + 1)) {
            if (filePaths.contains(s.substring(0, i))) {
                throw new RestoreRefused("path " + p + " lies below " + s.substring(0, i) + ", which the plan lists as a file");
            }
        }
    }

    /** The PG_<version>_<catalog> directories a tablespace's files and directories go to. */
    static Set<Path> versionDirs(RestoreLayout.Tablespace ts, List<Downloader.Item> files, List<RestoreLayout.InTree> dirs) {
        Set<Path> out = new LinkedHashSet<>();
        List<Path> all = new ArrayList<>();
        files.forEach(i -> all.add(i.target()));
        dirs.forEach(d -> all.add(d.file()));
        for (Path p : all) {
            if (p.startsWith(ts.location()) && !p.equals(ts.location())) {
                out.add(ts.location().resolve(ts.location().relativize(p).getName(0).toString()));
            }
        }
        return out;
    }

    private static String sha256(String s) {
        return java.util.HexFormat.of().formatHex(Downloader.sha256().digest(s.getBytes(StandardCharsets.UTF_8)));
    }
}
