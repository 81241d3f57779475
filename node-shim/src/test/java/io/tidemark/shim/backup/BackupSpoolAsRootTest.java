package io.tidemark.shim.backup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.tidemark.events.layout.BackupLabelName;
import io.tidemark.testkit.RunAs;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code sudo tidemark backup} with a shared spool: the stanza's directory stays (or becomes)
 * PostgreSQL's user's, the resume record root keeps there is that user's, and a link planted
 * there is not written through.
 */
@Tag("unit")
class BackupSpoolAsRootTest {
    @TempDir
    Path dir;

    @Test
    void rootKeepsItsResumeRecordInPostgresUsersSpoolAndFollowsNoLink() throws IOException {
        RunAs other = RunAs.detect();
        assumeTrue(other.switchesUser() && "root".equals(System.getProperty("user.name")), "needs root");
        Path pgdata = Files.createDirectories(dir.resolve("pgdata"));
        other.giveOwnership(pgdata);
        Path top = Files.createDirectory(dir.resolve("spool"), PosixFilePermissions.asFileAttribute(
                PosixFilePermissions.fromString("rwxr-xr-x")));
        Path stanza = top.resolve("main");
        assertTrue(BackupCommand.usableSpool(stanza, Optional.of(pgdata)));
        assertEquals(other.userName(), Files.getOwner(stanza, LinkOption.NOFOLLOW_LINKS).getName());

        Path record = ResumeRecord.fileFor(stanza);
        BackupLabelName label = BackupLabelName.parse("20260101-000000F");
        ResumeRecord.open(record, label, "full", Optional.empty(), false).close();
        io.tidemark.shim.spool.SpoolDirs.giveToDataDirOwner(record, Optional.of(pgdata));
        assertEquals(other.userName(), Files.getOwner(record, LinkOption.NOFOLLOW_LINKS).getName());
        assertEquals(label, ResumeRecord.read(record).orElseThrow().label());

        // that user replaces the record with a link to a file of root's: not appended through, not read
        Path roots = Files.writeString(dir.resolve("roots-file"), "root's\n");
        Files.delete(record);
        Files.createSymbolicLink(record, roots);
        assertTrue(ResumeRecord.read(record).isEmpty());
        assertThrows(IOException.class, () -> ResumeRecord.open(record, label, "full", Optional.empty(), true));
        assertEquals("root's\n", Files.readString(roots));

        // without a data directory root makes nothing in a shared spool, and does not use it
        assertTrue(!BackupCommand.usableSpool(top.resolve("other"), Optional.empty()) && Files.notExists(top.resolve("other")));
    }
}
