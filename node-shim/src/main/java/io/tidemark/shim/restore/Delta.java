package io.tidemark.shim.restore;

import io.tidemark.events.plan.PlanFile;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;

/**
 * {@code --delta}, as pgBackRest does it: a file already in place is kept when it is a regular
 * file with the plan's size and SHA-256 (or block digest, {@link PlanFile#digestByBlocks}); anything else at its path (other content, a directory)
 * is replaced; and whatever the backup does not contain is removed, links included (the link
 * itself, never what it points to). No modification-time shortcut: plans carry no times, and a
 * checksum is the only proof.
 */
public final class Delta {
    enum Decision { KEEP, FETCH }

    private Delta() {
    }

    static Decision decide(Path target, PlanFile f) throws IOException {
        BasicFileAttributes a;
        try {
            a = Files.readAttributes(target, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            return Decision.FETCH;
        }
        if (a.isSymbolicLink()) {
            throw new RestoreRefused("path " + f.path() + ": " + target + " is a symbolic link; refusing to write through it");
        }
        if (a.isDirectory()) {
            deleteTree(target);
            return Decision.FETCH;
        }
        if (!a.isRegularFile()) {
            Files.delete(target);
            return Decision.FETCH;
        }
        if (a.size() != f.size()) {
            return Decision.FETCH;
        }
        String now = f.digestByBlocks() ? io.tidemark.events.backup.BlockDigest.ofFile(target, f.blocks().get().blockSize())
                : sha256(target);
        return now.equals(f.sha256()) ? Decision.KEEP : Decision.FETCH;
    }

    static String sha256(Path file) throws IOException {
        var d = Downloader.sha256();
        byte[] buf = new byte[1 << 16];
        try (InputStream in = Files.newInputStream(file, LinkOption.NOFOLLOW_LINKS)) {
            for (int n; (n = in.read(buf)) >= 0; ) {
                d.update(buf, 0, n);
            }
        }
        return HexFormat.of().formatHex(d.digest());
    }

    /**
     * Entries under {@code root} (not following links) that are neither in {@code expected} nor
     * below an expected directory's expected children: the top-most ones only.
     */
    static List<Path> unexpected(Path root, Set<Path> expected) throws IOException {
        List<Path> out = new ArrayList<>();
        if (!Files.isDirectory(root, LinkOption.NOFOLLOW_LINKS)) {
            return out;
        }
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
                if (dir.equals(root) || expected.contains(dir)) {
                    return FileVisitResult.CONTINUE;
                }
                out.add(dir);
                return FileVisitResult.SKIP_SUBTREE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                if (!expected.contains(file)) {
                    out.add(file);
                }
                return FileVisitResult.CONTINUE;
            }
        });
        return out;
    }

    /** Removes {@code p} and, for a real directory, everything in it; links are removed, not followed. */
    public static void deleteTree(Path p) throws IOException {
        if (!Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
            Files.deleteIfExists(p);
            return;
        }
        Files.walkFileTree(p, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.delete(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path dir, IOException e) throws IOException {
                if (e != null) {
                    throw e;
                }
                Files.delete(dir);
                return FileVisitResult.CONTINUE;
            }
        });
    }
}
