package io.tidemark.bench.init;

import io.tidemark.events.api.ApiRoute;
import io.tidemark.functions.api.CatalogApiHandler;
import io.tidemark.functions.index.WalIndexHandler;
import io.tidemark.functions.plan.RestorePlanHandler;
import io.tidemark.functions.retain.ExpireApiHandler;
import io.tidemark.functions.retain.RetentionHandler;
import io.tidemark.functions.runtime.PrimingEvents;
import io.tidemark.functions.validate.ManifestValidateHandler;
import io.tidemark.localcloud.LocalCloud;
import io.tidemark.localcloud.LocalCloudFunctions;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Cold-start cost of each handler without SnapStart: for every handler, N fresh JVMs with only
 * the shaded Lambda jar (and {@link HandlerInitProbe}) on the class path, configured through the
 * environment like Lambda, against a real local cloud (S3Proxy, DynamoDB Local). Prints each run
 * and the medians: JVM process wall time, handler load and construction, first and second
 * invocation with a real event.
 *
 * <pre>java -cp bench/target/tidemark-bench.jar:bench/target/lib/* io.tidemark.bench.init.HandlerInitBench \
 *     functions/target/tidemark-functions-lambda.jar [runs]</pre>
 */
public final class HandlerInitBench {

    private record Case(String handler, byte[] event) {
    }

    private HandlerInitBench() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 1 || !Files.isRegularFile(Path.of(args[0]))) {
            System.err.println("usage: HandlerInitBench LAMBDA_JAR [RUNS]  (build the jar: ./mvnw -q -pl functions -am package -DskipTests)");
            System.exit(2);
        }
        Path lambdaJar = Path.of(args[0]).toAbsolutePath();
        int runs = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        Path probeClasses = Path.of(HandlerInitProbe.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        Path dir = Files.createTempDirectory("tidemark-init-bench");
        try (LocalCloud cloud = LocalCloudFunctions.register(LocalCloud.builder().dir(dir)).start()) {
            String bucket = cloud.bucket();
            String region = cloud.region();
            // A stanza for the events to belong to, created through the real handler.
            try (CatalogApiHandler catalog = new CatalogApiHandler(cloud.functionConfig())) {
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                catalog.handleRequest(new ByteArrayInputStream(PrimingEvents.apiRequest("PUT", "/stanzas/{stanza}",
                        "/stanzas/main", Map.of("stanza", "main"), CREATE_BODY)), out, null);
                System.out.println("stanza main: " + out.toString(StandardCharsets.UTF_8));
            }
            List<Case> cases = List.of(
                    new Case(WalIndexHandler.class.getName(), PrimingEvents.objectCreated(region, bucket,
                            "main/wal/0000000100000000/000000010000000000000001.zst")),
                    new Case(ManifestValidateHandler.class.getName(), PrimingEvents.objectCreated(region, bucket,
                            "main/backup/20260101-000000F/manifest.json")),
                    new Case(CatalogApiHandler.class.getName(), PrimingEvents.apiRequest("GET", "/stanzas/{stanza}",
                            "/stanzas/main", Map.of("stanza", "main"), null)),
                    new Case(RestorePlanHandler.class.getName(), PrimingEvents.apiRequest("POST",
                            ApiRoute.PLAN_CREATE.template(), "/stanzas/main/restore-plans", Map.of("stanza", "main"),
                            "{\"target\": {\"type\": \"latest\"}}")),
                    new Case(RetentionHandler.class.getName(), "{\"stanza\": \"main\", \"dryRun\": true}"
                            .getBytes(StandardCharsets.UTF_8)),
                    // (BackupSchedulerHandler delivers to SQS, which this machine does not have: its
                    // invocation fails by design when delivery fails, so it is not measured here.)
                    new Case(ExpireApiHandler.class.getName(), PrimingEvents.apiRequest("POST", ApiRoute.EXPIRE.template(),
                            "/stanzas/main/expire", Map.of("stanza", "main"), "{\"dryRun\": true}")));
            Map<String, String> env = new LinkedHashMap<>(cloud.functionConfig().toEnvironment());
            env.put("AWS_REGION", region);
            Map<String, List<double[]>> results = new LinkedHashMap<>();
            for (int run = 0; run < runs; run++) {
                for (Case c : cases) {
                    Path event = dir.resolve("event.json");
                    Files.write(event, c.event());
                    double[] r = probe(lambdaJar, probeClasses, env, c.handler(), event);
                    results.computeIfAbsent(c.handler(), k -> new ArrayList<>()).add(r);
                }
            }
            System.out.println();
            System.out.println("medians of " + runs + " runs (ms): handler | JVM process wall | load+construct | first invocation | second invocation");
            results.forEach((handler, rs) -> System.out.printf("%s | %.0f | %.0f | %.0f | %.1f%n",
                    handler.substring(handler.lastIndexOf('.') + 1), median(rs, 0), median(rs, 1), median(rs, 2),
                    median(rs, 3)));
        }
    }

    private static final String CREATE_BODY =
            "{\"systemIdentifier\":\"7300000000000000001\",\"pgVersion\":15,\"pgVersionNum\":150018,\"walSegmentSize\":16777216}";

    /** One fresh JVM; returns {wall, init, first, second} in ms. */
    private static double[] probe(Path jar, Path probeClasses, Map<String, String> env, String handler, Path event)
            throws IOException, InterruptedException {
        String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(javaBin, "-cp", jar + java.io.File.pathSeparator + probeClasses,
                HandlerInitProbe.class.getName(), handler, event.toString());
        pb.environment().keySet().removeIf(k -> k.startsWith("TIDEMARK_") || k.startsWith("AWS_"));
        pb.environment().putAll(env);
        pb.redirectError(ProcessBuilder.Redirect.DISCARD);
        long t0 = System.nanoTime();
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        if (!p.waitFor(2, TimeUnit.MINUTES) || p.exitValue() != 0) {
            throw new IllegalStateException(handler + ": probe failed (exit " + p.exitValue() + "): " + out);
        }
        double wall = (System.nanoTime() - t0) / 1e6;
        System.out.printf("%.0f ms  %s%n", wall, out);
        String[] f = out.lines().reduce((a, b) -> b).orElseThrow().split(" ", 5);
        return new double[] {wall, Double.parseDouble(f[1]), Double.parseDouble(f[2]), Double.parseDouble(f[3])};
    }

    private static double median(List<double[]> rs, int i) {
        double[] v = rs.stream().mapToDouble(r -> r[i]).sorted().toArray();
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }
}
