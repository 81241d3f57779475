package io.tidemark.shim.restore;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tidemark.events.layout.BackupLabelName;
import io.tidemark.events.layout.Compression;
import io.tidemark.events.paths.SafeRelativePath;
import io.tidemark.events.plan.PlanFile;
import io.tidemark.functions.aws.SigV4UrlSigner;
import io.tidemark.functions.runtime.AwsClients;
import io.tidemark.functions.runtime.FunctionConfig;
import io.tidemark.testkit.aws.RotatingCredentials;
import io.tidemark.testkit.aws.SigningStandIn;
import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Presigned URLs die with the planner's session keys, whatever their own lifetime: S3 then answers
 * 400 ExpiredToken. The planner's real URL signer, on a function's credentials from a rotating
 * endpoint, signs for a store that refuses expired keys; once the keys behind the first URLs
 * have expired, the pre-check and the download renew the URLs ({@code GET
 * /restore-plans/{id}/urls}, here the same signer) and finish with every file right.
 */
@Tag("unit")
class ExpiredPresignedUrlTest {
    @TempDir
    Path dir;

    RotatingCredentials rotating;
    SigningStandIn s3;
    AwsClients planner;
    SigV4UrlSigner signer;
    final AtomicInteger renewals = new AtomicInteger();
    final Map<String, byte[]> objects = new java.util.LinkedHashMap<>();

    @BeforeEach
    void start() {
        rotating = new RotatingCredentials(Duration.ofSeconds(1), Duration.ofSeconds(3));
        s3 = new SigningStandIn(rotating);
        planner = AwsClients.create(FunctionConfig.of(Map.of(
                FunctionConfig.BUCKET, "tidemark", FunctionConfig.TABLE, "tidemark", FunctionConfig.REGION, "us-east-1",
                FunctionConfig.S3_ENDPOINT, s3.endpoint().toString(), FunctionConfig.S3_PATH_STYLE, "true",
                FunctionConfig.CREDENTIALS_URI, rotating.uri().toString())));
        signer = new SigV4UrlSigner(planner.credentialsProvider(), "us-east-1", "tidemark", s3.endpoint(), true,
                Clock.systemUTC());
        for (int i = 0; i < 6; i++) {
            byte[] b = ("file " + i + " ").repeat(100 + i).getBytes(StandardCharsets.UTF_8);
            objects.put("main/backup/20261206-120000F/pg_data/base/" + i, b);
            s3.putObject("tidemark/main/backup/20261206-120000F/pg_data/base/" + i, b);
        }
    }

    @AfterEach
    void stop() {
        planner.close();
        s3.close();
        rotating.close();
    }

    /** URLs as an old plan carries them: an hour's lifetime, nothing said about the keys. */
    PlanUrls staleUrls() throws InterruptedException {
        Map<String, String> first = signer.sign(objects.keySet(), Duration.ofHours(1)).urls();
        String credential = URI.create(first.values().iterator().next()).getQuery().replaceAll(".*X-Amz-Credential=([^/&]+).*", "$1");
        Instant expires = rotating.lookup(credential).orElseThrow().expiration();
        Thread.sleep(Math.max(0, Duration.between(Instant.now(), expires).toMillis() + 50));
        return new PlanUrls("plan-1", new PlanUrls.UrlSet(first, null), id -> {
            renewals.incrementAndGet();
            return new PlanUrls.UrlSet(signer.sign(objects.keySet(), Duration.ofHours(1)).urls(), null);
        }, Clock.systemUTC());
    }

    @Test
    void thePrecheckRenewsUrlsWhoseKeysExpired() throws Exception {
        List<PlanObjects.Expected> expected = new ArrayList<>();
        objects.forEach((k, v) -> expected.add(new PlanObjects.Expected(k, v.length, false, "file " + k)));
        List<PlanPrecheck.Problem> problems = new PlanPrecheck(staleUrls(), 3, 10, Downloader.httpClient(null)).check(expected, n -> { });
        assertEquals(List.of(), problems);
        assertEquals(1, renewals.get(), "one renewal for every request refused with the old keys");
        assertTrue(s3.refused().stream().anyMatch(r -> r.startsWith("ExpiredToken")), s3.refused().toString());
    }

    @Test
    void theDownloadRenewsUrlsWhoseKeysExpired() throws Exception {
        BackupLabelName label = BackupLabelName.parse("20261206-120000F");
        List<Downloader.Item> items = new ArrayList<>();
        int i = 0;
        for (Map.Entry<String, byte[]> o : objects.entrySet()) {
            String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(o.getValue()));
            PlanFile f = new PlanFile(SafeRelativePath.of("base/" + i), o.getValue().length, sha, label, o.getKey(),
                    Compression.NONE, false, 0, o.getValue().length, sha);
            items.add(new Downloader.Item(f, dir.resolve("file" + i++)));
        }
        PlanUrls urls = staleUrls();
        try (io.tidemark.shim.cli.Progress progress = io.tidemark.shim.cli.Progress.ofFiles(items.size(), 0,
                new PrintStream(java.io.OutputStream.nullOutputStream()), false, 3_600_000, System::nanoTime)) {
            new Downloader(urls, 3, 1, 10, progress).run(Downloader.units(items));
        }
        i = 0;
        for (byte[] b : objects.values()) {
            assertArrayEquals(b, Files.readAllBytes(dir.resolve("file" + i++)));
        }
        assertEquals(1, renewals.get());
        assertTrue(s3.refused().stream().anyMatch(r -> r.startsWith("ExpiredToken")), s3.refused().toString());
    }
}
