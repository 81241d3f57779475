package io.tidemark.shim.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tidemark.shim.support.Shim;
import io.tidemark.shim.support.Shim.Run;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The command line's habits, through Main as bin/tidemark runs it: help and version, options
 * before or after the command, {@code --opt=value} and {@code --opt value}, declared mutually
 * exclusive restore targets, and one-line usage errors naming the option with the usual exit codes.
 */
@Tag("unit")
class CommandLineTest {
    private static final List<String> COMMANDS = List.of("stanza-create", "check", "archive-push", "archive-push-worker",
            "archive-get", "backup", "info", "verify", "expire", "restore", "drill", "agent", "wal-summary", "quickstart");

    @TempDir
    Path dir;

    @Test
    void helpListsTheCommandsAndEachCommandHasItsOwn() {
        Run top = Shim.main("--help");
        assertEquals(ExitCodes.OK, top.code(), top.err());
        for (String c : COMMANDS) {
            assertTrue(top.out().contains(c), c + " missing from tidemark --help:\n" + top.out());
        }
        assertFalse(top.out().contains("aot-train"), "internal commands stay out of the help");
        assertEquals(top.out(), Shim.main("help").out());
        for (String c : COMMANDS) {
            Run help = Shim.main(c, "--help");
            assertEquals(ExitCodes.OK, help.code(), c + ": " + help.err());
            assertTrue(help.out().startsWith("Usage: tidemark " + c), c + ":\n" + help.out());
        }
        assertTrue(Shim.main("restore", "--help").out().contains("--target-time"));
        assertTrue(Shim.main("archive-push", "-h").out().contains("WAL_PATH"));
        assertTrue(Shim.main("--stanza", "main", "archive-push", "--help").out().contains("--stanza"));
    }

    @Test
    void noCommandIsBadUsageWithTheHelp() {
        Run none = Shim.main();
        assertEquals(ExitCodes.USAGE, none.code());
        assertTrue(none.out().contains("Usage: tidemark"), none.out());
        Run unknown = Shim.main("archive-pish", "x");
        assertEquals(ExitCodes.USAGE, unknown.code());
        assertEquals("tidemark: unknown command 'archive-pish' (see tidemark --help)", unknown.err().strip());
    }

    @Test
    void versionAtTheTopAndAfterAnyCommand() {
        for (List<String> args : List.of(List.of("--version"), List.of("-V"), List.of("info", "--version"))) {
            Run v = Shim.main(args.toArray(String[]::new));
            assertEquals(ExitCodes.OK, v.code(), args + ": " + v.err());
            assertTrue(v.out().startsWith("tidemark "), v.out());
            assertEquals(1, v.out().strip().lines().count(), v.out());
        }
    }

    @Test
    void commonOptionsGoBeforeOrAfterTheCommandInEitherForm() throws Exception {
        Path conf = dir.resolve("tidemark.conf");
        Files.writeString(conf, "s3.region=us-east-1\ns3.bucket=tidemark\n");
        // no stanza anywhere: the configuration file was read (from an option before the command)
        Run noStanza = Shim.main("--config", conf.toString(), "info");
        assertEquals(ExitCodes.USAGE, noStanza.code(), noStanza.err());
        assertTrue(noStanza.err().contains("no stanza"), noStanza.err());
        // the stanza from before the command, in both forms, reaches the command: it gets past the stanza
        for (List<String> args : List.of(
                List.of("--stanza=main", "--config=" + conf, "info"),
                List.of("--stanza", "main", "info", "--config", conf.toString()),
                List.of("info", "--config", conf.toString(), "--stanza=main"))) {
            Run r = Shim.main(args.toArray(String[]::new));
            assertEquals(ExitCodes.FAILED, r.code(), args + ": " + r.err());
            assertTrue(r.err().startsWith("tidemark info: ") && r.err().contains("api.url"), args + ": " + r.err());
        }
        Run bad = Shim.main("--stanza=no/such", "--config", conf.toString(), "info");
        assertEquals(ExitCodes.USAGE, bad.code());
        assertTrue(bad.err().contains("no/such"), bad.err());
    }

    @Test
    void badCommandLinesAreOneLineNamingTheOption() {
        assertUsage(Shim.main("info", "--outptu", "json"), "tidemark info: ", "--outptu");
        assertUsage(Shim.main("info", "--stanza"), "tidemark info: ", "--stanza");
        assertUsage(Shim.main("--stanza", "a", "info", "--stanza", "b"), "tidemark info: ", "--stanza");
        assertUsage(Shim.main("info", "--stanza=a", "--stanza=b"), "tidemark info: ", "--stanza");
        assertUsage(Shim.main("--stanza", "a", "wal-summary", "x"), "tidemark wal-summary: ", "--stanza");
        assertUsage(Shim.main("--outptu", "info"), "tidemark info: ", "--outptu");
        assertUsage(Shim.main("archive-push"), "tidemark archive-push: ", "WAL_PATH");
        assertUsage(Shim.main("archive-push", "a", "b"), "tidemark archive-push: ", "b");
        assertUsage(Shim.main("backup", "--from-standby=yes"), "tidemark backup: ", "--from-standby");
        assertUsage(Shim.main("info", "--output", "yaml"), "tidemark info: ", "--output");
    }

    @Test
    void restoreTargetsAreMutuallyExclusive() {
        Run two = Shim.main("restore", "--pgdata", dir.toString(), "--target-time", "2026-01-01 00:00:00+00",
                "--target-xid=7");
        assertUsage(two, "tidemark restore: ", "mutually exclusive");
        assertTrue(two.err().contains("--target-time") && two.err().contains("--target-xid"), two.err());
        assertUsage(Shim.main("restore", "--target-immediate", "--target-name", "x", "--pgdata", dir.toString()),
                "tidemark restore: ", "--target-immediate");
    }

    @Test
    void archiveGetUsageErrorsAreNeverTheQuietNotArchived() {
        Run plain = Shim.main("archive-get", "000000010000000000000001");
        assertEquals(ExitCodes.GET_ERROR, plain.code(), plain.err());
        assertTrue(plain.err().startsWith("tidemark archive-get: ") && plain.err().contains("DEST_PATH"), plain.err());
        Run planned = Shim.main("archive-get", "000000010000000000000001", "pg_wal/RECOVERYXLOG", "--plan=x",
                "--bogus");
        assertEquals(ExitCodes.ABORT_RECOVERY, planned.code(), planned.err());
        assertTrue(planned.err().contains("ABORTING RECOVERY") && planned.err().contains("--bogus"), planned.err());
    }

    private static void assertUsage(Run r, String prefix, String naming) {
        assertEquals(ExitCodes.USAGE, r.code(), r.err());
        assertEquals("", r.out());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().startsWith(prefix), r.err());
        assertTrue(r.err().contains(naming), r.err());
    }

    @Test
    void postgresPlainLineBindsWithoutPicocliExactlyAsPicocliWould() throws Exception {
        for (List<String> line : List.of(
                List.of("archive-push", "pg_wal/000000010000000000000001", "--config", "/c", "--stanza=main"),
                List.of("--stanza=main", "--config", "/c", "archive-push", "pg_wal/000000010000000000000001"),
                List.of("--pgdata=/d", "archive-push", "--pg-port", "5433", "pg_wal/000000010000000000000001"))) {
            assertSameBinding(line, () -> new io.tidemark.shim.archivepush.ArchivePushCommand(java.util.Map.of()));
        }
        for (List<String> line : List.of(
                List.of("archive-get", "000000010000000000000001", "pg_wal/RECOVERYXLOG", "--config=/c", "--plan", "p"),
                List.of("--config", "/c", "archive-get", "00000002.history", "pg_wal/RECOVERYHISTORY"))) {
            assertSameBinding(line, () -> new io.tidemark.shim.archiveget.ArchiveGetCommand(java.util.Map.of()));
        }
        // every String option picocli declares for them binds on the plain path too, and no other
        for (PlainLine.Bindable c : List.of(new io.tidemark.shim.archivepush.ArchivePushCommand(java.util.Map.of()),
                new io.tidemark.shim.archiveget.ArchiveGetCommand(java.util.Map.of()))) {
            picocli.CommandLine.Model.CommandSpec spec = Cli.line(c).getCommandSpec();
            for (picocli.CommandLine.Model.OptionSpec o : spec.options()) {
                boolean plain = o.type() == String.class;
                assertEquals(plain, c.bindOption(o.longestName(), "v"), o.longestName());
            }
            assertFalse(c.bindOption("--no-such", "v"));
            assertEquals(spec.positionalParameters().size(), c.arguments());
        }
        // anything else is left to picocli
        for (List<String> line : List.of(
                List.of("archive-push", "--help"),
                List.of("archive-push", "x", "--bogus", "1"),
                List.of("archive-push", "x", "--stanza", "a", "--stanza", "b"),
                List.of("archive-push", "x", "--config"),
                List.of("archive-push", "x", "y"),
                List.of("archive-push"),
                List.of("x", "archive-push"),
                List.of("--plan", "p", "archive-get", "000000010000000000000001", "pg_wal/RECOVERYXLOG"))) {
            PlainLine.Bindable c = line.contains("archive-get") ? new io.tidemark.shim.archiveget.ArchiveGetCommand(java.util.Map.of())
                    : new io.tidemark.shim.archivepush.ArchivePushCommand(java.util.Map.of());
            int at = line.indexOf(line.contains("archive-get") ? "archive-get" : "archive-push");
            assertFalse(PlainLine.bind(c, line, at), line.toString());
        }
    }

    private static void assertSameBinding(List<String> line, java.util.function.Supplier<PlainLine.Bindable> make)
            throws Exception {
        int at = PlainLine.commandIndex(line);
        PlainLine.Bindable plain = make.get();
        assertTrue(PlainLine.bind(plain, line, at), line.toString());
        List<String> rest = new java.util.ArrayList<>(line);
        rest.remove(at);
        PlainLine.Bindable parsed = make.get();
        Cli.parse(parsed, rest);
        assertEquals(values(parsed), values(plain), line.toString());
    }

    /** Every String field of the command and of its mixins, by name. */
    private static java.util.Map<String, Object> values(Object o) throws Exception {
        java.util.Map<String, Object> m = new java.util.TreeMap<>();
        for (java.lang.reflect.Field f : o.getClass().getDeclaredFields()) {
            if (java.lang.reflect.Modifier.isStatic(f.getModifiers())) {
                continue;
            }
            f.setAccessible(true);
            if (f.isAnnotationPresent(picocli.CommandLine.Mixin.class)) {
                values(f.get(o)).forEach((k, v) -> m.put(f.getName() + "." + k, v));
            } else if (f.getType() == String.class) {
                m.put(f.getName(), f.get(o));
            }
        }
        return m;
    }
}
