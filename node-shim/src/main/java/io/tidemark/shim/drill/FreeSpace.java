package io.tidemark.shim.drill;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * How many bytes a directory's file system can still take for this user. The real one asks the
 * file store; tests give another to prove a drill is refused before anything is written (a real
 * small file system needs a mount, which a test cannot count on).
 */
@FunctionalInterface
public interface FreeSpace {
    /** The usable bytes of the file system {@code dir} is (or would be) on: the nearest existing ancestor's. */
    long usableBytes(Path dir) throws IOException;

    FreeSpace FILE_STORE = dir -> {
        Path p = dir.toAbsolutePath();
        while (p != null && !Files.exists(p)) {
            p = p.getParent();
        }
        if (p == null) {
            throw new IOException("no existing directory above " + dir);
        }
        return Files.getFileStore(p).getUsableSpace();
    };
}
