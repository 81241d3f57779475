package io.tidemark.shim.backup;

import io.tidemark.events.paths.SafeRelativePath;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;

/**
 * Lists what a base backup copies from a data directory, applying {@link Exclusions}.
 *
 * <p>Tablespaces are the links (or, for in-place tablespaces, directories) {@code pg_tblspc/<oid>}:
 * their contents are listed under {@code pg_tblspc/<oid>/...} and each becomes a
 * {@link Tablespace} with the link's target. A symbolic {@code pg_wal} is kept as an (empty)
 * directory. Other symbolic links are followed (a configuration file linked into PGDATA is backed
 * up as the file it points to). Sockets and other special files are skipped.
 *
 * <p>Files and directories that vanish while they are listed (a table dropped during the backup)
 * are skipped: WAL replay recreates the state. Names that cannot be a manifest path (a backslash
 * or control character) are skipped and reported in {@link Result#skipped()}.
 */
public final class DataDirWalker {

    /** A tablespace link: OID and the absolute directory it points to. */
    public record Tablespace(long oid, Path location) {
    }

    /** Everything the walk found, in path order. */
    public record Result(List<SourceFile> files, List<SafeRelativePath> directories, List<Tablespace> tablespaces,
                         List<String> skipped) {
    }

    private final List<SourceFile> files = new ArrayList<>();
    private final List<SafeRelativePath> directories = new ArrayList<>();
    private final List<Tablespace> tablespaces = new ArrayList<>();
    private final List<String> skipped = new ArrayList<>();

    private DataDirWalker() {
    }

    public static Result walk(Path pgdata) {
        DataDirWalker w = new DataDirWalker();
        try {
            w.walkDir(pgdata, "");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list the data directory " + pgdata + ": " + e.getMessage(), e);
        }
        return new Result(List.copyOf(w.files), List.copyOf(w.directories), List.copyOf(w.tablespaces),
                List.copyOf(w.skipped));
    }

    private void walkDir(Path dir, String rel) throws IOException {
        TreeMap<String, Path> entries = new TreeMap<>();
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir)) {
            for (Path p : s) {
                entries.put(p.getFileName().toString(), p);
            }
        } catch (NoSuchFileException | NotDirectoryException e) {
            if (rel.isEmpty()) {
                throw e;
            }
            return; // vanished
        }
        Set<String> unlogged = new HashSet<>();
        boolean databaseDir = Exclusions.isDatabaseDir(rel);
        if (databaseDir) {
            for (String name : entries.keySet()) {
                String node = Exclusions.initForkOf(name);
                if (node != null) {
                    unlogged.add(node);
                }
            }
        }
        for (var e : entries.entrySet()) {
            String name = e.getKey();
            Path p = e.getValue();
            String childRel = rel.isEmpty() ? name : rel + "/" + name;
            if (Exclusions.excludedByName(rel, name)) {
                continue;
            }
            if (databaseDir && (Exclusions.isTempRelation(name) || Exclusions.isUnloggedNonInitFork(name, unlogged))) {
                continue;
            }
            BasicFileAttributes a;
            try {
                a = Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            } catch (NoSuchFileException gone) {
                continue;
            }
            SafeRelativePath path;
            try {
                path = SafeRelativePath.of(childRel);
            } catch (IllegalArgumentException bad) {
                skipped.add(childRel.replaceAll("\\p{Cntrl}", "?") + ": " + bad.getMessage());
                continue;
            }
            if (rel.equals("pg_tblspc") && name.matches("[0-9]+") && (a.isSymbolicLink() || a.isDirectory())) {
                Path target = a.isSymbolicLink() ? dir.resolve(Files.readSymbolicLink(p)).normalize() : p.toAbsolutePath();
                long oid = Long.parseLong(name);
                if (oid > 0 && oid <= 0xFFFFFFFFL) {
                    tablespaces.add(new Tablespace(oid, target.toAbsolutePath()));
                    directories.add(path);
                    walkDir(target, childRel);
                    continue;
                }
            }
            if (a.isSymbolicLink()) {
                try {
                    a = Files.readAttributes(p, BasicFileAttributes.class);
                } catch (NoSuchFileException broken) {
                    skipped.add(childRel + ": broken symbolic link");
                    continue;
                }
            }
            if (a.isDirectory()) {
                directories.add(path);
                if (rel.isEmpty() && Exclusions.contentsExcluded(name)) {
                    if (name.equals("pg_wal")) {
                        directories.add(path.resolve("archive_status"));
                    }
                    continue;
                }
                walkDir(p, childRel);
            } else if (a.isRegularFile()) {
                files.add(new SourceFile(path, p, a.size(), a.lastModifiedTime().toInstant()));
            } else {
                skipped.add(childRel + ": not a regular file or directory");
            }
        }
    }
}
