package io.tidemark.shim.support;

import io.tidemark.localcloud.LocalCloud;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * One LocalCloud (S3Proxy, DynamoDB Local, the local API with {@link FakeCatalog} on the stanza
 * routes and no product functions) shared by the tests of one JVM: starting one takes seconds.
 */
public final class TestCloud {
    private static LocalCloud cloud;
    private static FakeCatalog catalog;
    private static FakePlanner planner;
    private static S3Client s3;

    private TestCloud() {
    }

    public static synchronized LocalCloud cloud() {
        if (cloud == null) {
            try {
                Path dir = Files.createTempDirectory("tidemark-shim-cloud");
                catalog = new FakeCatalog();
                planner = new FakePlanner();
                cloud = start(dir, catalog, planner);
                Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                    if (s3 != null) {
                        s3.close();
                    }
                    cloud.close();
                }));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return cloud;
    }

    public static LocalCloud start(Path dir, FakeCatalog catalog) {
        return start(dir, catalog, new FakePlanner());
    }

    /** As above, with {@link FakePlanner} on the restore-plan routes. */
    public static LocalCloud start(Path dir, FakeCatalog catalog, FakePlanner planner) {
        return LocalCloud.builder().dir(dir)
                .route("catalog-get", "GET", "/stanzas/{stanza}", cfg -> catalog)
                .route("catalog-put", "PUT", "/stanzas/{stanza}", cfg -> catalog)
                .route("plan-post", "POST", "/stanzas/{stanza}/restore-plans", cfg -> planner)
                .route("plan-urls", "GET", "/restore-plans/{id}/urls", cfg -> planner)
                .start();
    }

    public static synchronized FakePlanner planner() {
        cloud();
        return planner;
    }

    public static synchronized FakeCatalog catalog() {
        cloud();
        return catalog;
    }

    /** An SDK client on the local S3, for checking and tampering with objects. */
    public static synchronized S3Client s3() {
        if (s3 == null) {
            s3 = client(cloud());
        }
        return s3;
    }

    public static S3Client client(LocalCloud c) {
        return S3Client.builder()
                .endpointOverride(c.s3Endpoint())
                .region(Region.of(c.region()))
                .forcePathStyle(true)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(
                        c.credentials().accessKeyId(), c.credentials().secretAccessKey())))
                .build();
    }

    /**
     * A shim configuration file for {@code c}: local-cloud's own entries plus {@code extra}
     * (e.g. stanza, compress-type, spool.dir, retries).
     */
    public static Path config(LocalCloud c, Path dir, Map<String, String> extra) {
        StringBuilder sb = new StringBuilder();
        c.clientConfig().forEach((k, v) -> sb.append(k).append('=').append(v).append('\n'));
        extra.forEach((k, v) -> sb.append(k).append('=').append(v).append('\n'));
        if (!extra.containsKey("archive-get.prefetch")) {
            sb.append("archive-get.prefetch=0\n"); // no detached prefetcher processes from tests unless asked for
        }
        if (!extra.containsKey("archive-push.async")) {
            sb.append("archive-push.async=false\n"); // nor detached archive workers: these tests push in-process
        }
        try {
            Path f = Files.createTempFile(dir, "tidemark", ".conf");
            Files.writeString(f, sb.toString());
            return f;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
