package io.tidemark.shim.api;

import io.tidemark.events.layout.StanzaName;
import io.tidemark.shim.archiveget.AtomicFile;
import io.tidemark.shim.spool.SpoolDirs;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;

/**
 * The stanza document kept in the spool ({@code <spool.dir>/<stanza>/stanza.id}, the identity
 * fields as {@code key=value} lines: {@link StanzaDoc#toCacheText()}) so that archive-push needs
 * no API call and no JSON parser per segment. A {@code stanza.json} left by an older version is
 * still read. A cache only: when the spool cannot be used
 * (missing and not creatable, owned by another user, damaged file) it is ignored and the API
 * asked; it never makes a command fail. Directories are created mode 700 and used only when
 * owned by the current user, so another local user cannot plant a document; root writes it only
 * into a stanza directory of the data directory's owner (see {@link SpoolDirs#createStanzaDir}).
 */
public final class StanzaCache {
    private final Path spool;
    private final Optional<Path> pgdata;

    public StanzaCache(Path spool) {
        this(spool, Optional.empty());
    }

    /**
     * A cache that, when written by root, makes the stanza's spool directory for the owner of
     * {@code pgdata} ({@link SpoolDirs#createStanzaDir}): root's commands never take PostgreSQL's
     * user's spool away.
     */
    public StanzaCache(Path spool, Optional<Path> pgdata) {
        this.spool = spool;
        this.pgdata = pgdata;
    }

    public Path file(StanzaName stanza) {
        return spool.resolve(stanza.value()).resolve("stanza.id");
    }

    private Path legacyFile(StanzaName stanza) {
        return spool.resolve(stanza.value()).resolve("stanza.json");
    }

    public Optional<StanzaDoc> read(StanzaName stanza) {
        Path f = file(stanza);
        try {
            boolean legacy = !Files.isRegularFile(f);
            if (legacy) {
                f = legacyFile(stanza);
            }
            // the stanza's directory must be ours; spool.dir may also be root's (a shared install
            // directory), as for the prefetch and archive spools (SpoolDirs.privateProblem): root
            // makes the stanza's directory there for the user PostgreSQL runs as (write, below), and
            // that user's archive-get prefetcher needs the segment size from it
            if (!Files.isRegularFile(f) || !ownedByMe(f.getParent()) || !(ownedByMe(spool) || ownedByRoot(spool))) {
                return Optional.empty();
            }
            String text = Files.readString(f, StandardCharsets.UTF_8);
            StanzaDoc doc = legacy ? StanzaDoc.parse(text) : StanzaDoc.fromCacheText(text);
            return doc.stanza().equals(stanza.value()) ? Optional.of(doc) : Optional.empty();
        } catch (IOException | IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    /**
     * Writes the document atomically ({@link AtomicFile}: a writer killed by PostgreSQL's signal
     * leaves a temp file that the next write removes); returns false (and leaves things as they
     * were) when it cannot.
     */
    public boolean write(StanzaName stanza, StanzaDoc doc) {
        Path f = file(stanza);
        Path dir = f.getParent();
        try {
            createPrivate(spool);
            if (!ownedByMe(spool)) {
                return false;
            }
            SpoolDirs.createStanzaDir(dir, pgdata);
            if (!SpoolDirs.usableStanzaDir(dir, pgdata)) {
                return false;
            }
            AtomicFile.write(f, doc.toCacheText().getBytes(StandardCharsets.UTF_8));
            SpoolDirs.giveToDataDirOwner(f, pgdata);
            return true;
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }

    /** Forgets the cached document (e.g. when it no longer matches the cluster). */
    public void drop(StanzaName stanza) {
        try {
            Files.deleteIfExists(file(stanza));
            Files.deleteIfExists(legacyFile(stanza));
        } catch (IOException ignored) {
            // a cache
        }
    }

    private static void createPrivate(Path dir) throws IOException {
        if (Files.isDirectory(dir)) {
            return;
        }
        try {
            Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        } catch (UnsupportedOperationException e) {
            Files.createDirectory(dir);
        } catch (java.nio.file.FileAlreadyExistsException e) {
            // raced with another archive-push: fine when it is a directory
            if (!Files.isDirectory(dir)) {
                throw e;
            }
        }
    }

    private static boolean ownedByRoot(Path p) throws IOException {
        return !Files.isSymbolicLink(p) && Files.getOwner(p, java.nio.file.LinkOption.NOFOLLOW_LINKS).getName().equals("root");
    }

    private static boolean ownedByMe(Path p) throws IOException {
        return Files.getOwner(p).getName().equals(System.getProperty("user.name"));
    }
}
