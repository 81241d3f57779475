package io.tidemark.testkit;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;

/** Deleting dir trees that a (possibly still dying) server may be writing into. */
public final class FileTrees {

    private FileTrees() {
    }

    /** Deletes {@code root} and everything under it; returns false if something could not be deleted. */
    public static boolean deleteQuietly(Path root) {
        if (root == null || !Files.exists(root)) {
            return true;
        }
        // Two passes: a postmaster that is just exiting may still create a file (a stats temp
        // file, a log line) while the first pass runs.
        for (int attempt = 0; attempt < 2; attempt++) {
            try {
                Files.walkFileTree(root, new SimpleFileVisitor<>() {
                    @Override
                    public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                        Files.deleteIfExists(file);
                        return FileVisitResult.CONTINUE;
                    }

                    @Override
                    public FileVisitResult visitFileFailed(Path file, IOException exc) {
                        return FileVisitResult.CONTINUE;
                    }

                    @Override
                    public FileVisitResult postVisitDirectory(Path dir, IOException exc) throws IOException {
                        Files.deleteIfExists(dir);
                        return FileVisitResult.CONTINUE;
                    }
                });
                return true;
            } catch (NoSuchFileException gone) {
                return true;
            } catch (IOException e) {
                sleepQuietly(100);
            }
        }
        return !Files.exists(root);
    }

    static void sleepQuietly(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
