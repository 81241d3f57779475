package io.tidemark.shim.spool;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
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

    /** A real directory, not a link, owned by the user this JVM runs as. */
    public static boolean ownedDirectory(Path d) throws IOException {
        return !Files.isSymbolicLink(d) && Files.isDirectory(d, LinkOption.NOFOLLOW_LINKS)
                && Files.getOwner(d, LinkOption.NOFOLLOW_LINKS).getName().equals(System.getProperty("user.name"));
    }
}
