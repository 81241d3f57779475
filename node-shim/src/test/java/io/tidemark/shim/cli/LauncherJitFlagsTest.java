package io.tidemark.shim.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The JVM flags the launcher picks per command: backup and restore compile with C2 only the
 * copy's kernels (bin/lib/copy-jit.json), the per-segment commands keep their short-run tuning.
 * The launcher runs against a stand-in JDK whose java writes its arguments to a file; the
 * directives file itself is checked against the real JVM, which refuses to start on a file it
 * cannot parse.
 */
@Tag("unit")
class LauncherJitFlagsTest {
    @TempDir
    Path dir;

    private Path launcher;
    private Path fakeJdk;
    private Path argsFile;
    private final Path repoBin = Path.of("..", "bin").toAbsolutePath().normalize();

    @BeforeEach
    void install() throws IOException {
        Path lib = Files.createDirectories(dir.resolve("install/bin/lib"));
        Files.copy(repoBin.resolve("tidemark"), lib.getParent().resolve("tidemark"), StandardCopyOption.COPY_ATTRIBUTES);
        try (var files = Files.list(repoBin.resolve("lib"))) {
            for (Path f : files.toList()) {
                Files.copy(f, lib.resolve(f.getFileName()));
            }
        }
        Files.createDirectories(dir.resolve("install/lib"));
        Files.write(dir.resolve("install/lib/tidemark-node-shim.jar"), new byte[0]); // present: the launcher starts "java"
        launcher = lib.getParent().resolve("tidemark");
        fakeJdk = Files.createDirectories(dir.resolve("jdk/bin")).getParent();
        Files.writeString(fakeJdk.resolve("release"), "JAVA_VERSION=\"25.0.3\"\n");
        argsFile = dir.resolve("args");
        Path java = fakeJdk.resolve("bin/java");
        Files.writeString(java, "#!/bin/sh\nprintf '%s\\n' \"$@\" > " + argsFile + "\n");
        Files.setPosixFilePermissions(java, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    private List<String> jvmArgs(String... command) throws Exception {
        List<String> cmd = new java.util.ArrayList<>(List.of("bash", launcher.toString()));
        cmd.addAll(List.of(command));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true);
        pb.environment().put("TIDEMARK_JAVA_HOME", fakeJdk.toString());
        pb.environment().remove("TIDEMARK_LAUNCH_LOG");
        pb.environment().put("TIDEMARK_NO_FAST_PATH", "1");
        Process p = pb.start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), out);
        return Files.readAllLines(argsFile);
    }

    @Test
    void backupAndRestoreCompileOnlyTheCopyKernelsWithC2() throws Exception {
        String directives = "-XX:CompilerDirectivesFile=" + dir.resolve("install/bin/lib/copy-jit.json");
        // the prefetcher's JVM reads the same definition (bin/lib/copy-jit.flags) on the Java side
        List<String> java = CopyJitFlags.of(dir.resolve("install/bin/lib"));
        assertEquals(List.of("-XX:+UnlockDiagnosticVMOptions", directives, "-XX:-DisplayVMOutput"), java);
        for (String command : List.of("backup", "restore")) {
            List<String> args = jvmArgs(command, "--help");
            assertEquals(java, args.subList(0, java.size()), command + ": " + args);
            assertFalse(args.contains("-XX:TieredStopAtLevel=1"), command + " keeps C2 for its kernels: " + args);
            assertEquals(List.of(command, "--help"), args.subList(args.size() - 2, args.size()));
            // backup runs with SerialGC (less CPU than G1's threads, measured); restore keeps G1
            assertEquals(command.equals("backup"), args.contains("-XX:+UseSerialGC"), command + ": " + args);
        }
        for (String command : List.of("archive-get", "info")) {
            List<String> args = jvmArgs(command, "--help");
            assertFalse(args.stream().anyMatch(a -> a.startsWith("-XX:CompilerDirectivesFile")), command + ": " + args);
            assertTrue(args.contains("-XX:TieredStopAtLevel=1"), command + ": " + args);
        }
    }

    @Test
    void withoutTheDirectivesFileBackupGetsTheJvmDefaults() throws Exception {
        Files.delete(dir.resolve("install/bin/lib/copy-jit.json"));
        List<String> args = jvmArgs("backup", "--help");
        assertFalse(args.stream().anyMatch(a -> a.contains("Directives") || a.contains("Tiered")), args.toString());
        assertEquals(List.of(), CopyJitFlags.of(dir.resolve("install/bin/lib")), "nor for the prefetcher");
    }

    /**
     * The package build's caches for the copy commands (tidemark-backup.aot, tidemark-restore.aot,
     * trained on a real backup and restore): each command gets its own, beside its copy flags; a
     * cache older than the jar (a rebuilt jar, an upgrade) and a JDK below 25 get none.
     */
    @Test
    void backupAndRestoreUseTheirOwnAotCacheOnlyWhenNewerThanTheJar() throws Exception {
        Path lib = dir.resolve("install/lib");
        Path jar = lib.resolve("tidemark-node-shim.jar");
        java.nio.file.attribute.FileTime jarTime = Files.getLastModifiedTime(jar);
        for (String command : List.of("backup", "restore")) {
            Files.write(lib.resolve("tidemark-" + command + ".aot"), new byte[0]);
            Files.setLastModifiedTime(lib.resolve("tidemark-" + command + ".aot"),
                    java.nio.file.attribute.FileTime.fromMillis(jarTime.toMillis() + 60_000));
        }
        for (String command : List.of("backup", "restore")) {
            List<String> args = jvmArgs(command, "--help");
            assertTrue(args.contains("-XX:AOTCache=" + lib.resolve("tidemark-" + command + ".aot")), command + ": " + args);
            assertEquals(1, args.stream().filter(a -> a.startsWith("-XX:AOTCache=")).count(), command + ": " + args);
            assertTrue(args.contains("-Xlog:aot*=off,cds*=off"), "a cache that does not fit is ignored silently: " + args);
            assertTrue(args.stream().anyMatch(a -> a.startsWith("-XX:CompilerDirectivesFile")), "the copy flags stay: " + args);
        }
        // stale: the jar rebuilt after the cache
        Files.setLastModifiedTime(lib.resolve("tidemark-restore.aot"),
                java.nio.file.attribute.FileTime.fromMillis(jarTime.toMillis() - 60_000));
        List<String> stale = jvmArgs("restore", "--help");
        assertFalse(stale.stream().anyMatch(a -> a.startsWith("-XX:AOTCache")), "a cache older than the jar is not used: " + stale);
        assertTrue(jvmArgs("backup", "--help").contains("-XX:AOTCache=" + lib.resolve("tidemark-backup.aot")), "backup's own still is");
        // no cache at all (a build without PostgreSQL): the copy flags alone
        Files.delete(lib.resolve("tidemark-backup.aot"));
        List<String> none = jvmArgs("backup", "--help");
        assertFalse(none.stream().anyMatch(a -> a.startsWith("-XX:AOTCache")), none.toString());
        assertTrue(none.stream().anyMatch(a -> a.startsWith("-XX:CompilerDirectivesFile")), none.toString());
        // a JDK that cannot read a JDK 25 cache
        Files.write(lib.resolve("tidemark-backup.aot"), new byte[0]);
        Files.setLastModifiedTime(lib.resolve("tidemark-backup.aot"),
                java.nio.file.attribute.FileTime.fromMillis(jarTime.toMillis() + 60_000));
        Files.writeString(fakeJdk.resolve("release"), "JAVA_VERSION=\"21.0.5\"\n");
        List<String> old = jvmArgs("backup", "--help");
        assertFalse(old.stream().anyMatch(a -> a.startsWith("-XX:AOTCache")), old.toString());
    }

    /** The real JVM with the launcher's flags: it starts (it refuses a file it cannot parse) and prints nothing on stdout. */
    @Test
    void theRealJvmParsesTheDirectivesFileQuietly() throws Exception {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process p = new ProcessBuilder(java.toString(), "-XX:+UnlockDiagnosticVMOptions",
                "-XX:CompilerDirectivesFile=" + repoBin.resolve("lib/copy-jit.json"), "-XX:-DisplayVMOutput", "-version")
                .start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), err);
        assertEquals("", out, "stdout stays the command's own");
        assertFalse(err.contains("Could not load") || err.contains("rror") || err.contains("directives"), err);
    }
}
