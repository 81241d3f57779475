package io.tidemark.shim.aottrain;

import io.tidemark.events.layout.StanzaName;
import io.tidemark.events.wal.WalSegmentSize;
import io.tidemark.shim.Command;
import io.tidemark.shim.api.StanzaCache;
import io.tidemark.shim.api.StanzaDoc;
import io.tidemark.shim.archiveget.ArchiveGetCommand;
import io.tidemark.shim.archivepush.ArchivePushCommand;
import io.tidemark.shim.cli.CommandFailure;
import io.tidemark.shim.cli.ExitCodes;
import io.tidemark.shim.cli.UsageException;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import picocli.CommandLine;
import io.tidemark.shim.Main;

/**
 * {@code tidemark aot-train push|get|info}: a training run for one of the JVM's AOT caches
 * (docs/startup.md). With the AOT cache every class the training loaded is loaded and linked
 * at each start, so each short command gets its own cache, trained on its own path only:
 * {@code push} runs archive-push (zstd, the stanza document cached as after stanza-create,
 * then the same file again); {@code get} runs archive-get with each compression (the segment
 * pushed by another JVM) and archive-get of a segment that is not archived; {@code info} runs info
 * against the catalog API. The first configuration of push and get reaches S3 over HTTPS (when
 * the JDK has keytool) with keys from a credentials endpoint, as a node does; the others plain
 * HTTP, with keys from the endpoint or static ones. S3, the catalog API and the credentials endpoint are played by
 * {@link TrainingCloud} in a separate JVM, and this class avoids formatters, streams and regular
 * expressions for the same reason. Synthetic 16 MB segments; touches nothing outside a temp
 * directory; needs no network.
 */
@CommandLine.Command(name = "aot-train", hidden = true, mixinStandardHelpOptions = true,
        versionProvider = io.tidemark.shim.cli.Version.class,
        description = "(build) a training run for the JVM's AOT cache of archive-push, archive-get or info")
public final class AotTrainCommand implements Command, io.tidemark.shim.cli.PlainLine.OneArgument {
    @CommandLine.Parameters(index = "0", arity = "0..1", paramLabel = "push|get|info", description = "which command's cache")
    private String which;

    @Override
    public boolean bindOption(String name, String value) {
        return false;
    }

    @Override
    public void bindTheArgument(String value) {
        which = value;
    }

    /** One configuration the training runs a command with: its compression and how it reaches the cloud. */
    private record Variant(String compression, boolean tls, boolean endpointKeys) {
        String name() {
            return compression + (tls ? "-tls" : "") + (endpointKeys ? "-uri" : "");
        }
    }

    @Override
    public int call(PrintStream out, PrintStream err) {
        if (!("push".equals(which) || "get".equals(which) || "info".equals(which))) {
            throw new UsageException("usage: tidemark aot-train push|get|info");
        }
        boolean get = which.equals("get");
        Path dir = null;
        Process server = null;
        try {
            dir = trainingDirectory();
            // HTTPS to S3 with keys from a credentials endpoint is a node's usual path (AWS S3 is
            // TLS only): without it in the cache, a call parsed and linked about 250-370 TLS and
            // 70 JSON classes from the JDK image at every start (docs/startup.md, 2026-12-07)
            Path ca = dir.resolve("ca.pem");
            boolean haveTls = !which.equals("info") && keyPair(dir.resolve("tls.p12"), ca); // info's API is plain HTTP here
            server = startCloud(haveTls ? dir.resolve("tls.p12") : null);
            int[] ports = ports(server);
            String base = "http://127.0.0.1:" + ports[0];
            Path wal = dir.resolve("pg_wal");
            Files.createDirectories(wal);
            Path spool = dir.resolve("spool");
            if (!get) {
                // as after stanza-create: archive-push and info read the cached document, no API call
                // written directly, not by StanzaCache.write: its temporary file would bring SecureRandom
                // into the cache, which archive-push never needs
                Path cached = new StanzaCache(spool).file(StanzaName.of("train"));
                Files.createDirectories(cached.getParent());
                Files.writeString(cached, new StanzaDoc("train", TrainingCloud.SYSID, 15, 150000,
                        WalSegmentSize.ofBytes(TrainingCloud.SEGMENT), "2026-01-01T00:00:00Z").toCacheText());
            }
            List<Variant> variants = switch (which) {
                case "push" -> List.of(new Variant("zst", haveTls, true), new Variant("zst", false, false));
                case "get" -> List.of(new Variant("zst", haveTls, true), new Variant("lz4", false, true),
                        new Variant("none", false, false));
                default -> List.of(new Variant("zst", false, true), new Variant("zst", false, false));
            };
            for (int v = 0; v < variants.size(); v++) {
                Variant variant = variants.get(v);
                Path conf = dir.resolve(variant.name() + v + ".conf");
                String s3 = variant.tls() ? "https://127.0.0.1:" + ports[1] + "\ns3.caFile=" + ca : base;
                String keys = variant.endpointKeys() ? "credentials.uri=" + base + "/credentials\n"
                        : "s3.accessKeyId=AKTRAIN\ns3.secretAccessKey=train\n";
                Files.writeString(conf, "s3.endpoint=" + s3 + "\ns3.region=us-east-1\ns3.bucket=train\ns3.pathStyle=true\n"
                        + keys + "api.url=" + base + "\nstanza=train\n"
                        + "compress-type=" + variant.compression() + "\nspool.dir=" + spool + "\nretries=0\narchive-push.async=false\n");
                // static keys: the shim refuses a configuration others can read
                Files.setPosixFilePermissions(conf, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
                if (which.equals("info")) {
                    // PostgreSQL unreachable (port 1): info reports the lag as unknown, as on a node whose server is down
                    expect(Main.run(List.of("info", "--config", conf.toString(), "--pg-host", "127.0.0.1", "--pg-port", "1"),
                            devNull(), devNull()), "info");
                    continue;
                }
                for (int seg = 0; seg < (get ? 1 : 2); seg++) {
                    long segNo = (v + 1) * 4L + seg;
                    String name = "00000001" + hex8(segNo >>> 8) + hex8(segNo & 0xFF);
                    Path f = wal.resolve(name);
                    Files.write(f, segment(segNo));
                    // through Main, as bin/tidemark runs them: the command line's parsing is trained too
                    List<String> push = List.of("archive-push", f.toString(), "--config", conf.toString());
                    if (get) {
                        // the segment to fetch is pushed by another JVM: archive-push's classes
                        // (compressors, the upload) would otherwise load at every archive-get's start
                        // (measured: a miss 0.74 s CPU with a cache of its own path, 1.00 s with the push in it)
                        pushInChild(push);
                    } else {
                        expect(Main.run(push, devNull(), devNull(), n -> new ArchivePushCommand(Map.of())),
                                "archive-push " + name);
                    }
                    if (seg == 0 && !get) {
                        expect(Main.run(push, devNull(), devNull(), n -> new ArchivePushCommand(Map.of())),
                                "repeated archive-push");
                    }
                    if (get) {
                        expect(Main.run(List.of("archive-get", name, dir.resolve("RECOVERYXLOG").toString(), "--config",
                                conf.toString()), devNull(), devNull(),
                                n -> new ArchiveGetCommand(Map.of(), (c, s, after, plan) -> { })), "archive-get " + name);
                    }
                }
                if (get && v == 0) {
                    // a segment that is not archived: what a standby polling the archive asks most
                    int missed = Main.run(List.of("archive-get", "00000001000000FF000000FF", dir.resolve("RECOVERYXLOG").toString(),
                            "--config", conf.toString()), devNull(), devNull(),
                            n -> new ArchiveGetCommand(Map.of(), (c, s, after, plan) -> { }));
                    if (missed != 1) {
                        throw new CommandFailure(ExitCodes.FAILED, "training run: archive-get of a missing segment exited " + missed);
                    }
                }
            }
            String what = switch (which) {
                case "push" -> "archive-push";
                case "get" -> "archive-push and archive-get";
                default -> "info";
            };
            out.println("aot-train: " + what + " exercised" + (which.equals("info") ? "" : haveTls ? ", S3 over HTTPS and HTTP"
                    : " (no keytool: plain HTTP only)"));
            return ExitCodes.OK;
        } catch (IOException e) {
            throw new CommandFailure(ExitCodes.FAILED, "training run failed: " + e.getMessage(), e);
        } finally {
            if (server != null) {
                server.destroy();
            }
            if (dir != null) {
                delete(dir.toFile());
            }
        }
    }

    /** {@code tidemark ARGS} in a JVM of its own (same Java and class path, none of this one's AOT options). */
    private static void pushInChild(List<String> args) throws IOException {
        List<String> options = new java.util.ArrayList<>(List.of("-XX:+UseSerialGC"));
        String zstd = System.getProperty("ZstdNativePath");
        if (zstd != null) {
            options.add("-DZstdNativePath=" + zstd);
        }
        List<String> cmd = childJvm(options, Main.class, args);
        if (!tool(cmd)) {
            throw new CommandFailure(ExitCodes.FAILED, "training run: " + String.join(" ", args) + " failed in its own JVM");
        }
    }

    /**
     * A self-signed key pair for the training cloud's HTTPS side (PKCS12, password "training")
     * and its certificate as PEM ({@code s3.caFile}), by the JDK's keytool. False when there is
     * no keytool (a JRE): the training then runs over plain HTTP only.
     */
    private static boolean keyPair(Path store, Path caPem) throws IOException {
        Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
        if (!Files.isExecutable(keytool)) {
            return false;
        }
        return tool(List.of(keytool.toString(), "-genkeypair", "-alias", "train", "-keyalg", "EC", "-groupname", "secp256r1",
                "-dname", "CN=127.0.0.1", "-ext", "SAN=ip:127.0.0.1", "-validity", "2", "-storetype", "PKCS12",
                "-keystore", store.toString(), "-storepass", "training", "-keypass", "training"))
                && tool(List.of(keytool.toString(), "-exportcert", "-rfc", "-alias", "train", "-keystore", store.toString(),
                "-storepass", "training", "-file", caPem.toString()));
    }

    private static boolean tool(List<String> cmd) throws IOException {
        ProcessBuilder pb = withoutAotOptions(new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD));
        try {
            return pb.start().waitFor() == 0;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while waiting for " + cmd.get(0), e);
        }
    }

    /** A fresh directory under java.io.tmpdir; not Files.createTempDirectory, which starts SecureRandom. */
    private static Path trainingDirectory() throws IOException {
        Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
        for (int attempt = 0; ; attempt++) {
            Path dir = tmp.resolve("tidemark-aot-train-" + Long.toHexString(System.nanoTime()));
            try {
                return Files.createDirectory(dir);
            } catch (java.nio.file.FileAlreadyExistsException e) {
                if (attempt > 100) {
                    throw e;
                }
            }
        }
    }

    private static String hex8(long v) {
        String h = Long.toHexString(v).toUpperCase(java.util.Locale.ROOT);
        return "0".repeat(8 - h.length()) + h;
    }

    private static void delete(java.io.File f) {
        java.io.File[] children = f.listFiles();
        if (children != null) {
            for (java.io.File c : children) {
                delete(c);
            }
        }
        f.delete();
    }

    /** The training cloud in its own JVM (same Java, same jar), without this JVM's AOT options; HTTPS too with {@code keyStore}. */
    private static Process startCloud(Path keyStore) throws IOException {
        List<String> cmd = childJvm(List.of(), TrainingCloud.class,
                keyStore != null ? List.of(keyStore.toString(), "training") : List.of());
        ProcessBuilder pb = withoutAotOptions(new ProcessBuilder(cmd));
        pb.redirectError(ProcessBuilder.Redirect.INHERIT);
        return pb.start();
    }

    /** {@code java} of this JVM's Java home, C1 only, {@code options}, this class path, {@code main} and its {@code args}. */
    private static List<String> childJvm(List<String> options, Class<?> main, List<String> args) {
        List<String> cmd = new java.util.ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1"));
        cmd.addAll(options);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), main.getName()));
        cmd.addAll(args);
        return cmd;
    }

    /** A child process of the training must not record or use the training's AOT cache (its options come by these variables). */
    private static ProcessBuilder withoutAotOptions(ProcessBuilder pb) {
        pb.environment().remove("JAVA_TOOL_OPTIONS");
        pb.environment().remove("JDK_JAVA_OPTIONS");
        return pb;
    }

    /** The cloud's plain HTTP port and its HTTPS port (0 without). */
    private static int[] ports(Process cloud) throws IOException {
        String line = new java.io.BufferedReader(new java.io.InputStreamReader(cloud.getInputStream(), StandardCharsets.UTF_8))
                .readLine();
        if (line == null || !line.startsWith("port ")) {
            throw new IOException("the training cloud did not start (said: " + line + ")");
        }
        String[] words = line.trim().split(" ");
        return new int[] {Integer.parseInt(words[1]), words.length == 4 ? Integer.parseInt(words[3]) : 0};
    }

    private static void expect(int code, String what) {
        if (code != 0) {
            throw new CommandFailure(ExitCodes.FAILED, "training run: " + what + " exited " + code);
        }
    }

    private static PrintStream devNull() {
        return new PrintStream(OutputStream.nullOutputStream(), true, StandardCharsets.UTF_8);
    }

    /** A 16 MB PostgreSQL 15 segment: a valid long page header, then compressible filler. */
    static byte[] segment(long segNo) {
        byte[] b = new byte[TrainingCloud.SEGMENT];
        ByteBuffer h = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        h.putShort(0, (short) 0xD110).putShort(2, (short) 0x0002).putInt(4, 1).putLong(8, segNo * TrainingCloud.SEGMENT)
                .putInt(16, 0).putLong(24, TrainingCloud.SYSID).putInt(32, TrainingCloud.SEGMENT).putInt(36, 8192);
        for (int i = 8192; i < TrainingCloud.SEGMENT; i += 64) {
            b[i] = (byte) (i >>> 13);
            b[i + 7] = (byte) (i * 31);
        }
        return b;
    }
}
