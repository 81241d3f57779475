package io.tidemark.shim.support;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

/**
 * Runs {@code bin/tidemark} with this JVM's JDK as an unpacked distribution would (bin/ and
 * lib/tidemark-node-shim.jar), without {@code package}: the jar holds only a manifest whose
 * Class-Path is this test's class path. So the launcher starts real JVMs of the shim (its
 * archive-get, the prefetcher it starts itself), which a test counts through
 * {@code TIDEMARK_LAUNCH_LOG} (one line per JVM start).
 */
public final class InstalledLauncher {
    private final Path root;
    private final Path launchLog;

    /** Makes the install under {@code dir} (bin/ copied from the repository). */
    public InstalledLauncher(Path dir) throws IOException {
        this.root = Files.createDirectories(dir.resolve("install"));
        Path bin = Path.of("..", "bin").toAbsolutePath().normalize();
        Files.createDirectories(root.resolve("bin/lib"));
        Files.copy(bin.resolve("tidemark"), root.resolve("bin/tidemark"));
        root.resolve("bin/tidemark").toFile().setExecutable(true);
        try (var s = Files.list(bin.resolve("lib"))) {
            for (Path f : s.toList()) {
                Files.copy(f, root.resolve("bin/lib").resolve(f.getFileName()));
            }
        }
        Manifest m = new Manifest();
        m.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        m.getMainAttributes().put(Attributes.Name.MAIN_CLASS, "io.tidemark.shim.Main");
        StringBuilder cp = new StringBuilder();
        for (String e : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
            if (!e.isEmpty()) {
                cp.append(Path.of(e).toAbsolutePath().toUri()).append(' ');
            }
        }
        m.getMainAttributes().put(Attributes.Name.CLASS_PATH, cp.toString().strip());
        Files.createDirectories(root.resolve("lib"));
        try (JarOutputStream j = new JarOutputStream(Files.newOutputStream(root.resolve("lib/tidemark-node-shim.jar")), m)) {
            j.flush();
        }
        this.launchLog = root.resolve("launch.log");
        Files.writeString(launchLog, "");
    }

    /** {@code TIDEMARK_LAUNCH_LOG}'s lines so far. */
    public List<String> launches() throws IOException {
        return Files.readAllLines(launchLog, StandardCharsets.UTF_8);
    }

    /** The launch lines that started a JVM of the shim for a command ({@code jvm ...}). */
    public List<String> jvms() throws IOException {
        return launches().stream().filter(l -> l.startsWith("jvm ")).toList();
    }

    public Shim.Run run(Path cwd, String... args) throws Exception {
        return run(cwd, Map.of(), args);
    }

    public Shim.Run run(Path cwd, Map<String, String> env, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("bash", root.resolve("bin/tidemark").toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(cwd.toFile());
        pb.environment().put("TIDEMARK_JAVA_HOME", System.getProperty("java.home"));
        pb.environment().put("TIDEMARK_LAUNCH_LOG", launchLog.toString());
        pb.environment().remove("PGDATA");
        pb.environment().putAll(env);
        Process p = pb.start();
        p.getOutputStream().close();
        var out = new java.util.concurrent.CompletableFuture<String>();
        Thread t = new Thread(() -> {
            try {
                out.complete(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
            } catch (IOException e) {
                out.complete("");
            }
        });
        t.start();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        int code = p.waitFor();
        return new Shim.Run(code, out.get(), err);
    }
}
