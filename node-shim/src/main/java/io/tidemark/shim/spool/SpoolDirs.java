package io.tidemark.shim.spool;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

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

    /** A real directory, not a link, owned by the user this JVM runs as. */
    public static boolean ownedDirectory(Path d) throws IOException {
        return !Files.isSymbolicLink(d) && Files.isDirectory(d, LinkOption.NOFOLLOW_LINKS)
                && Files.getOwner(d, LinkOption.NOFOLLOW_LINKS).getName().equals(System.getProperty("user.name"));
    }
}
