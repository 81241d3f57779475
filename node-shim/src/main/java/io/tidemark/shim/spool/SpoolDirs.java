package io.tidemark.shim.spool;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The directories of the node's spool ({@code spool.dir}): created mode 700, and used only when
 * each one is a real directory (not a link) owned by this user. The launcher serves files from
 * the spool without a JVM under the same rule, so a spool another user could write is never
 * trusted by either.
 */
public final class SpoolDirs {
    private SpoolDirs() {
    }

    /** Creates each of {@code dirs} (in order) if missing; true when all are usable. */
    public static boolean ensurePrivate(List<Path> dirs) throws IOException {
        for (Path d : dirs) {
            createPrivate(d);
            if (!ownedDirectory(d)) {
                return false;
            }
        }
        return true;
    }

    /** Creates {@code d} mode 700 unless something exists there already. */
    public static void createPrivate(Path d) throws IOException {
        if (Files.exists(d, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try {
            Files.createDirectory(d, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        } catch (FileAlreadyExistsException e) {
            // another process of ours created it meanwhile
        }
    }

    /**
     * Why {@code top} (the configured {@code spool.dir}) and {@code dirs} below it (in order) cannot
     * hold private files, creating each of {@code dirs} mode 700 when missing; empty when they
     * can. {@code top} may be shared (as {@code /tmp}) but must not be a symbolic link and must
     * belong to this user or root (its owner could swap what is below it); each of {@code dirs}
     * must be a real directory owned by this user that neither group nor others can write.
     */
    public static Optional<String> privateProblem(Path top, List<Path> dirs) throws IOException {
        String me = System.getProperty("user.name");
        if (Files.isSymbolicLink(top)) {
            return Optional.of("spool directory " + top + " is a symbolic link (to " + Files.readSymbolicLink(top)
                    + "); tidemark follows no link there: set spool.dir to the real directory");
        }
        if (!Files.isDirectory(top, LinkOption.NOFOLLOW_LINKS)) {
            createPrivate(top);
        }
        String topOwner = Files.getOwner(top, LinkOption.NOFOLLOW_LINKS).getName();
        if (!topOwner.equals(me) && !topOwner.equals("root")) {
            return Optional.of("spool directory " + top + " belongs to " + topOwner + ", not to " + me
                    + " (the user running tidemark) nor root: that user could read or replace what tidemark keeps there;"
                    + " remove it or set spool.dir to a directory of " + me);
        }
        for (Path d : dirs) {
            createPrivate(d);
            if (Files.isSymbolicLink(d)) {
                return Optional.of(d + " is a symbolic link (to " + Files.readSymbolicLink(d) + "); tidemark follows no link"
                        + " in its spool: remove it");
            }
            if (!Files.isDirectory(d, LinkOption.NOFOLLOW_LINKS)) {
                return Optional.of(d + " is not a directory: remove it");
            }
            String owner = Files.getOwner(d, LinkOption.NOFOLLOW_LINKS).getName();
            if (!owner.equals(me)) {
                return Optional.of(d + " belongs to " + owner + ", not to " + me + " (the user running tidemark): another"
                        + " user created it and could read or replace what tidemark keeps there; remove it (rm -r " + d + ")");
            }
            Set<PosixFilePermission> perms = Files.getPosixFilePermissions(d, LinkOption.NOFOLLOW_LINKS);
            if (perms.contains(PosixFilePermission.GROUP_WRITE) || perms.contains(PosixFilePermission.OTHERS_WRITE)) {
                return Optional.of(d + " is writable by group or others (" + PosixFilePermissions.toString(perms)
                        + "): run chmod 700 " + d);
            }
        }
        return Optional.empty();
    }

    /**
     * Creates a stanza's spool directory ({@code <spool.dir>/<stanza>}) mode 700 when missing, so
     * that it belongs to the user who archives. Run as another user, that is this user. Run as root
     * (an operator's {@code sudo tidemark stanza-create}), the directory is made for the owner of
     * {@code pgdata}, the user PostgreSQL runs as, whose archive-push, asynchronous worker and
     * prefetcher use it: a directory root took would leave them none (they never use another
     * user's), and archive-push would push synchronously, a JVM per segment. When root does not
     * know the data directory (or it is root's) nothing is created: the stanza's spool is only a
     * cache for root's commands. A spool.dir that only root can enter (root's default spool,
     * {@code $TMPDIR/tidemark-root}, mode 700) is root's own: there root makes the directory for
     * itself. Never follows a link: an existing entry is left as it is, and the
     * owner is changed on the directory itself (lchown).
     */
    public static void createStanzaDir(Path dir, Optional<Path> pgdata) throws IOException {
        if (Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        if (!runningAsRoot() || onlyRootEnters(dir.getParent())) {
            createPrivate(dir);
            return;
        }
        Optional<UserPrincipal> owner = dataDirOwner(pgdata);
        if (owner.isEmpty()) {
            return;
        }
        try {
            Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        } catch (FileAlreadyExistsException e) {
            return; // someone else made it meanwhile: theirs
        }
        handOver(dir, owner.get());
    }

    /**
     * Whether this process may keep files in a stanza's spool directory {@code dir}: a real
     * directory that neither group nor others can write, owned by this user, or, run as root, by
     * the owner of {@code pgdata} (see {@link #createStanzaDir}; what root writes there it gives
     * to that user with {@link #giveToDataDirOwner}).
     */
    public static boolean usableStanzaDir(Path dir, Optional<Path> pgdata) throws IOException {
        if (Files.isSymbolicLink(dir) || !Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            return false;
        }
        Set<PosixFilePermission> perms = Files.getPosixFilePermissions(dir, LinkOption.NOFOLLOW_LINKS);
        if (perms.contains(PosixFilePermission.GROUP_WRITE) || perms.contains(PosixFilePermission.OTHERS_WRITE)) {
            return false;
        }
        UserPrincipal owner = Files.getOwner(dir, LinkOption.NOFOLLOW_LINKS);
        if (owner.getName().equals(System.getProperty("user.name"))) {
            return true;
        }
        return runningAsRoot() && dataDirOwner(pgdata).map(owner::equals).orElse(false);
    }

    /**
     * Run as root: gives {@code file}, just written in a stanza's spool that belongs to the owner
     * of {@code pgdata}, to that owner (lchown: a link there is changed, never its target), so that
     * user can read and replace it. Otherwise nothing.
     */
    public static void giveToDataDirOwner(Path file, Optional<Path> pgdata) throws IOException {
        if (!runningAsRoot()) {
            return;
        }
        Optional<UserPrincipal> owner = dataDirOwner(pgdata);
        if (owner.isPresent() && owner.get().equals(Files.getOwner(file.getParent(), LinkOption.NOFOLLOW_LINKS))) {
            handOver(file, owner.get());
        }
    }

    /** The owner of {@code pgdata} when it is a real directory not owned by root. */
    private static Optional<UserPrincipal> dataDirOwner(Optional<Path> pgdata) throws IOException {
        if (pgdata.isEmpty() || !Files.isDirectory(pgdata.get(), LinkOption.NOFOLLOW_LINKS)) {
            return Optional.empty();
        }
        UserPrincipal owner = Files.getOwner(pgdata.get(), LinkOption.NOFOLLOW_LINKS);
        return owner.getName().equals("root") ? Optional.empty() : Optional.of(owner);
    }

    /** A real directory of root's that neither group nor others may enter or read. */
    private static boolean onlyRootEnters(Path top) throws IOException {
        if (top == null || Files.isSymbolicLink(top) || !Files.isDirectory(top, LinkOption.NOFOLLOW_LINKS)
                || !Files.getOwner(top, LinkOption.NOFOLLOW_LINKS).getName().equals("root")) {
            return false;
        }
        Set<PosixFilePermission> perms = Files.getPosixFilePermissions(top, LinkOption.NOFOLLOW_LINKS);
        return perms.stream().noneMatch(x -> x.name().startsWith("GROUP_") || x.name().startsWith("OTHERS_"));
    }

    private static void handOver(Path p, UserPrincipal owner) throws IOException {
        Files.getFileAttributeView(p, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS).setOwner(owner);
    }

    private static boolean runningAsRoot() {
        return "root".equals(System.getProperty("user.name"));
    }

    /** A real directory, not a link, owned by the user this JVM runs as. */
    public static boolean ownedDirectory(Path d) throws IOException {
        return !Files.isSymbolicLink(d) && Files.isDirectory(d, LinkOption.NOFOLLOW_LINKS)
                && Files.getOwner(d, LinkOption.NOFOLLOW_LINKS).getName().equals(System.getProperty("user.name"));
    }
}
