package io.tidemark.shim.spool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.tidemark.testkit.RunAs;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Where the shim keeps private files (saved restore plans): only in directories nobody else can swap or read. */
@Tag("unit")
class SpoolDirsTest {
    @TempDir
    Path dir;

    private Optional<String> problem(Path top, Path... dirs) throws IOException {
        return SpoolDirs.privateProblem(top, List.of(dirs));
    }

    @Test
    void missingDirectoriesAreCreatedPrivate() throws IOException {
        Path top = dir.resolve("spool");
        assertEquals(Optional.empty(), problem(top, top.resolve("main"), top.resolve("main/restore-plans")));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(top.resolve("main/restore-plans"))));
    }

    @Test
    void aSpoolPreCreatedByAnotherUserIsRefused() throws IOException {
        RunAs other = RunAs.detect();
        assumeTrue(other.switchesUser(), "needs root, to make a directory of another user");
        Path top = Files.createDirectories(dir.resolve("spool"));
        Path stanza = Files.createDirectories(top.resolve("main"));
        other.giveOwnership(stanza);
        String p = problem(top, stanza, stanza.resolve("restore-plans")).orElseThrow();
        assertTrue(p.contains(stanza + " belongs to " + other.userName() + ", not to " + System.getProperty("user.name")), p);
        assertTrue(Files.notExists(stanza.resolve("restore-plans")), "nothing created inside it");
        // the configured spool.dir itself belonging to another (non-root) user
        Path theirs = Files.createDirectories(dir.resolve("theirs"));
        other.giveOwnership(theirs);
        String t = problem(theirs, theirs.resolve("main")).orElseThrow();
        assertTrue(t.contains("spool directory " + theirs + " belongs to " + other.userName()), t);
    }

    @Test
    void rootMakesAStanzasSpoolForTheDataDirectorysOwnerAndFollowsNoLink() throws IOException {
        RunAs other = RunAs.detect();
        assumeTrue(other.switchesUser() && "root".equals(System.getProperty("user.name")), "needs root");
        Path pgdata = Files.createDirectories(dir.resolve("pgdata"));
        other.giveOwnership(pgdata);
        Path top = Files.createDirectory(dir.resolve("spool"),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
        Path stanza = top.resolve("main");
        SpoolDirs.createStanzaDir(stanza, Optional.of(pgdata));
        assertEquals(other.userName(), Files.getOwner(stanza).getName());
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(stanza)));
        assertTrue(SpoolDirs.usableStanzaDir(stanza, Optional.of(pgdata)), "root may keep files there for that user");
        assertFalse(SpoolDirs.ownedDirectory(stanza), "but it is not root's own");
        Path f = Files.writeString(stanza.resolve("stanza.id"), "x");
        SpoolDirs.giveToDataDirOwner(f, Optional.of(pgdata));
        assertEquals(other.userName(), Files.getOwner(f).getName());
        // a link in the spool: its target keeps its owner
        Path target = Files.writeString(dir.resolve("target"), "t");
        Path link = Files.createSymbolicLink(stanza.resolve("link"), target);
        SpoolDirs.giveToDataDirOwner(link, Optional.of(pgdata));
        assertEquals("root", Files.getOwner(target).getName());
        assertEquals(other.userName(), Files.getOwner(link, java.nio.file.LinkOption.NOFOLLOW_LINKS).getName());
        // a link as the stanza's directory: left as it is, not usable
        Path realDir = Files.createDirectories(dir.resolve("real"));
        Path linkedStanza = Files.createSymbolicLink(top.resolve("linked"), realDir);
        SpoolDirs.createStanzaDir(linkedStanza, Optional.of(pgdata));
        assertEquals("root", Files.getOwner(realDir).getName());
        assertFalse(SpoolDirs.usableStanzaDir(linkedStanza, Optional.of(pgdata)));
        // root without a data directory (or with root's) creates nothing
        SpoolDirs.createStanzaDir(top.resolve("nodata"), Optional.empty());
        SpoolDirs.createStanzaDir(top.resolve("rootdata"), Optional.of(dir));
        assertTrue(Files.notExists(top.resolve("nodata")) && Files.notExists(top.resolve("rootdata")));
        // a spool.dir only root can enter is root's own: there root makes the directory for itself
        Path own = Files.createDirectory(dir.resolve("own"), PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        SpoolDirs.createStanzaDir(own.resolve("main"), Optional.of(pgdata));
        assertEquals("root", Files.getOwner(own.resolve("main")).getName());
    }

    @Test
    void linksAndDirectoriesOthersCanWriteAreRefused() throws IOException {
        Path real = Files.createDirectories(dir.resolve("real"));
        Path top = Files.createSymbolicLink(dir.resolve("spool"), real);
        assertTrue(problem(top, top.resolve("main")).orElseThrow().contains("is a symbolic link"));
        Path top2 = Files.createDirectories(dir.resolve("spool2"));
        Files.createSymbolicLink(top2.resolve("main"), real);
        assertTrue(problem(top2, top2.resolve("main")).orElseThrow().contains(top2.resolve("main") + " is a symbolic link"));
        Path top3 = Files.createDirectories(dir.resolve("spool3"));
        Path open = Files.createDirectories(top3.resolve("main"));
        Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rwxrwxrwx"));
        assertTrue(problem(top3, open).orElseThrow().contains("writable by group or others (rwxrwxrwx): run chmod 700 " + open));
    }
}
