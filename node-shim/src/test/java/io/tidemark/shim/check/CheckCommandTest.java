package io.tidemark.shim.check;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The judgements of {@code tidemark check} that need no server (the whole check runs in ArchiveEndToEndTest). */
@Tag("unit")
class CheckCommandTest {
    @Test
    void archiveCommandMustRunThisShimsArchivePushForThisStanza() {
        assertNull(CheckCommand.shimCommandProblem("tidemark archive-push %p --config /etc/tidemark/tidemark.conf", "main"));
        assertNull(CheckCommand.shimCommandProblem("/usr/local/bin/tidemark --stanza=main archive-push %p", "main"));
        assertNull(CheckCommand.shimCommandProblem("/opt/t/bin/tidemark archive-push %p --stanza main", "main"));
        assertTrue(CheckCommand.shimCommandProblem("cp %p /mnt/archive/%f", "main").contains("does not run tidemark archive-push"));
        assertTrue(CheckCommand.shimCommandProblem("tidemark archive-get %f %p", "main").contains("does not run tidemark archive-push"));
        assertTrue(CheckCommand.shimCommandProblem("/bin/pgbackrest --stanza=main archive-push %p", "main")
                .contains("does not run tidemark archive-push"));
        assertEquals("does not pass the file (%p)", CheckCommand.shimCommandProblem("tidemark archive-push", "main"));
        assertEquals("archives to stanza 'other', not 'main'",
                CheckCommand.shimCommandProblem("tidemark archive-push %p --stanza=other", "main"));
        assertEquals("archives to stanza 'other', not 'main'",
                CheckCommand.shimCommandProblem("tidemark --stanza other archive-push %p", "main"));
    }

    @Test
    void aSegmentIsIndexedWhenAnArchivedRangeOfItsTimelineHoldsIt() throws Exception {
        var doc = new ObjectMapper().readTree("""
                {"timelines": [
                  {"timeline": 1, "walRanges": [{"start": "000000010000000000000001", "end": "000000010000000000000009"}]},
                  {"timeline": 2, "walRanges": [{"start": "00000002000000000000000A", "end": "00000002000000000000000C"}]}]}""");
        assertTrue(CheckCommand.covered(doc, "000000010000000000000001"));
        assertTrue(CheckCommand.covered(doc, "000000010000000000000009"));
        assertFalse(CheckCommand.covered(doc, "00000001000000000000000A"), "after the range");
        assertTrue(CheckCommand.covered(doc, "00000002000000000000000B"));
        assertFalse(CheckCommand.covered(doc, "000000020000000000000009"), "before timeline 2's range");
        assertFalse(CheckCommand.covered(doc, "00000003000000000000000B"), "no such timeline");
    }
}
