package io.tidemark.shim.archivepush.async;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;

/**
 * What PostgreSQL has left to archive: the {@code pg_wal/archive_status/*.ready} files, read
 * only. The order is PostgreSQL's own archiver's: timeline history files first (a restore that
 * follows a timeline switch needs them before any segment of the new timeline), then by name,
 * which for WAL files is oldest first (timeline, then segment number; a {@code .partial} or a
 * {@code .backup} file right after the segment it starts with).
 */
public final class ReadyQueue {
    private static final String READY = ".ready";

    /** A file to archive and its size (0 when it vanished while listing). */
    public record ReadyFile(String name, long bytes) {
    }

    private ReadyQueue() {
    }

    static final Comparator<String> ORDER = Comparator.comparing((String n) -> !n.endsWith(".history"))
            .thenComparing(Comparator.naturalOrder());

    /** Names in archiving order; anything that is not a WAL file name is left out. */
    public static List<String> order(Collection<String> names) {
        return names.stream().filter(ArchiveSpool::isWalFile).sorted(ORDER).toList();
    }

    /** The ready files of {@code pgWal} in archiving order; empty when there is no archive_status. */
    public static List<ReadyFile> scan(Path pgWal) {
        List<String> names = new ArrayList<>();
        try (DirectoryStream<Path> s = Files.newDirectoryStream(pgWal.resolve("archive_status"), "*" + READY)) {
            for (Path f : s) {
                String n = f.getFileName().toString();
                names.add(n.substring(0, n.length() - READY.length()));
            }
        } catch (NoSuchFileException e) {
            return List.of();
        } catch (IOException e) {
            return List.of();
        }
        List<ReadyFile> out = new ArrayList<>();
        for (String n : order(names)) {
            long size;
            try {
                size = Files.size(pgWal.resolve(n));
            } catch (IOException e) {
                size = 0;
            }
            out.add(new ReadyFile(n, size));
        }
        return out;
    }
}
