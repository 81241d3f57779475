package io.tidemark.shim.support;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs {@code bin/tidemark} with a fake JDK whose {@code java} only says "JVM STARTED" and exits
 * 42: any other answer came from the launcher itself, without a JVM.
 */
public final class FakeJavaLauncher {
    private final Path jdk;

    /** @param dir where the fake JDK is made (once) */
    public FakeJavaLauncher(Path dir) {
        this.jdk = dir.resolve("fake-jdk");
    }

    public Shim.Run run(Path cwd, String... args) throws Exception {
        if (!Files.exists(jdk)) {
            Files.createDirectories(jdk.resolve("bin"));
            Files.writeString(jdk.resolve("release"), "JAVA_VERSION=\"25\"\n");
            Path java = jdk.resolve("bin/java");
            Files.writeString(java, "#!/bin/sh\necho JVM STARTED\nexit 42\n");
            java.toFile().setExecutable(true);
        }
        Path launcher = Path.of("..", "bin", "tidemark").toAbsolutePath().normalize();
        List<String> cmd = new ArrayList<>(List.of("bash", launcher.toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(cwd.toFile()).redirectErrorStream(true);
        pb.environment().put("TIDEMARK_JAVA_HOME", jdk.toString());
        pb.environment().remove("PGDATA");
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        return new Shim.Run(p.waitFor(), "", out);
    }

    /**
     * The launcher went past every fast path to start Java: the fake JVM ran, or (before
     * {@code package}, as in a clean build's test phase) it stopped where it would start one.
     */
    public static void assertWentToTheJvm(Shim.Run r) {
        assertTrue(r.code() == 42 && r.err().contains("JVM STARTED") || r.err().contains("the shim is not built"),
                "the launcher answered by itself: exit " + r.code() + ": " + r.err());
    }
}
