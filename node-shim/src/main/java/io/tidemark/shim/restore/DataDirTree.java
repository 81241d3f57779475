package io.tidemark.shim.restore;

import io.tidemark.shim.restore.RestoreCommand.Prepared;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashSet;
import java.util.Set;

/**
 * Restore, steps 5 and 9: the directory tree the files go into (PGDATA, cleaned under --delta,
 * directories, tablespace locations and their links, created without following a link), and at
 * the end every directory synced.
 */
final class DataDirTree {
    private DataDirTree() {
    }

    /** Creates PGDATA, cleans it (delta), then directories, tablespace locations and links. */
    static void layOut(Prepared p, boolean delta) throws IOException {
        Path pgdata = p.layout().pgdata();
        mkdirs(pgdata);
        Files.setPosixFilePermissions(pgdata, PosixFilePermissions.fromString("rwx------"));
        if (delta) {
            // first: a directory without pg_control cannot be started half-restored
            Files.deleteIfExists(pgdata.resolve(RestoreCommand.PG_CONTROL));
            Set<Path> expected = new HashSet<>();
            p.files().forEach(i -> addWithParents(expected, i.target(), pgdata));
            p.directories().forEach(d -> addWithParents(expected, d.file(), d.root()));
            p.links().forEach(l -> addWithParents(expected, l.link(), pgdata));
            for (Path x : Delta.unexpected(pgdata, expected)) {
                Delta.deleteTree(x);
            }
            for (RestoreLayout.Tablespace ts : p.layout().tablespaces().values()) {
                p.files().forEach(i -> addWithParents(expected, i.target(), ts.location()));
                for (Path v : PlanPaths.versionDirs(ts, p.files(), p.directories())) {
                    for (Path x : Delta.unexpected(v, expected)) {
                        Delta.deleteTree(x);
                    }
                }
            }
        }
        for (RestoreLayout.Tablespace ts : p.layout().tablespaces().values()) {
            mkdirs(ts.location());
        }
        for (RestoreLayout.InTree d : p.directories()) {
            mkdirsUnder(d.root(), d.file());
        }
        for (Downloader.Item i : p.files()) {
            Path root = i.target().startsWith(pgdata) ? pgdata : locationOf(p, i.target());
            mkdirsUnder(root, i.target().getParent());
        }
        for (RestoreLayout.TablespaceLink l : p.links()) {
            mkdirs(l.tablespace().location());
            mkdirsUnder(pgdata, l.link().getParent());
            if (Files.isSymbolicLink(l.link())) {
                if (Files.readSymbolicLink(l.link()).equals(l.tablespace().location())) {
                    continue;
                }
                Files.delete(l.link());
            } else if (Files.exists(l.link(), LinkOption.NOFOLLOW_LINKS)) {
                Delta.deleteTree(l.link());
            }
            Files.createSymbolicLink(l.link(), l.tablespace().location());
        }
    }

    private static Path locationOf(Prepared p, Path file) {
        for (RestoreLayout.Tablespace ts : p.layout().tablespaces().values()) {
            if (file.startsWith(ts.location())) {
                return ts.location();
            }
        }
        throw new RestoreRefused(file + " is neither in PGDATA nor in a tablespace");
    }

    private static void addWithParents(Set<Path> set, Path p, Path root) {
        for (Path x = p; x != null && x.startsWith(root) && !x.equals(root); x = x.getParent()) {
            set.add(x);
        }
    }

    private static void mkdirs(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        }
    }

    /** Creates {@code dir} below {@code root} one component at a time, refusing links on the way. */
    private static void mkdirsUnder(Path root, Path dir) throws IOException {
        Path cur = root;
        for (Path part : root.relativize(dir)) {
            cur = cur.resolve(part.toString());
            if (Files.isSymbolicLink(cur)) {
                throw new RestoreRefused(cur + " is a symbolic link; refusing to write through it");
            }
            if (Files.isRegularFile(cur, LinkOption.NOFOLLOW_LINKS)) {
                Files.delete(cur);
            }
            try {
                Files.createDirectory(cur, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            } catch (FileAlreadyExistsException e) {
                if (!Files.isDirectory(cur, LinkOption.NOFOLLOW_LINKS)) {
                    throw e;
                }
            }
        }
    }

    /** Syncs every directory a file or directory was written into. */
    static void sync(Prepared p) throws IOException {
        Set<Path> dirs = new HashSet<>();
        p.files().forEach(i -> dirs.add(i.target().getParent()));
        p.directories().forEach(d -> dirs.add(d.file()));
        dirs.add(p.layout().pgdata());
        dirs.add(p.layout().pgdata().resolve("pg_tblspc"));
        for (Path d : dirs) {
            if (Files.isDirectory(d, LinkOption.NOFOLLOW_LINKS)) {
                try (FileChannel ch = FileChannel.open(d, StandardOpenOption.READ)) {
                    ch.force(true);
                } catch (IOException e) {
                    // some file systems cannot sync a directory; the files are synced
                }
            }
        }
    }
}
