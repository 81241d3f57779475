package io.tidemark.functions.aws;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.tidemark.functions.plan.UrlSigner;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import software.amazon.awssdk.auth.credentials.AwsSessionCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Configuration;
import software.amazon.awssdk.services.s3.presigner.S3Presigner;

/**
 * What presigning a plan of 1,000 files costs, with the SDK's {@link S3Presigner} and with the
 * planner's {@link SigV4UrlSigner}: the same versioned keys, the same session credentials (Lambda's
 * role has a session token), one call per plan as the planner makes it. Decides which signer the
 * planner uses (its budget: a whole plan in 300 ms, docs/benchmarks.md#planner-latency).
 *
 * <pre>./mvnw -B -o -pl functions -am test -Dtidemark.aot.skip=true -Dtidemark.bench=true -Dtidemark.testJvmFlags= \
 *   -Dtest=PresignCostBench -Dsurefire.failIfNoSpecifiedTests=false</pre>
 */
@Tag("slow")
@EnabledIfSystemProperty(named = "tidemark.bench", matches = "true")
class PresignCostBench {

    static final int FILES = 1_000;
    static final int ROUNDS = 30;

    @Test
    void presignAPlanOfAThousandFilesBothWays() {
        var credentials = StaticCredentialsProvider.create(AwsSessionCredentials.builder()
                .accessKeyId("ASIABENCHONLY0000000").secretAccessKey("bench-only-secret-bench-only-secret-0000")
                .sessionToken("t".repeat(900)).expirationTime(Instant.now().plusSeconds(3600)).build());
        URI endpoint = URI.create("http://127.0.0.1:9000");
        Map<String, String> versions = new LinkedHashMap<>();
        for (int i = 0; i < FILES; i++) {
            versions.put("main/backup/20261201-000000F/pg_data/base/16384/" + (16_000 + i) + ".zst", "v3HL4kqtJlcpXro" + i);
        }
        try (S3Presigner presigner = S3Presigner.builder().region(Region.US_EAST_1).credentialsProvider(credentials)
                .serviceConfiguration(S3Configuration.builder().pathStyleAccessEnabled(true).build())
                .endpointOverride(endpoint).build()) {
            UrlSigner sdk = new UrlSigner() {
                @Override
                public String presignGet(String key, Duration ttl) {
                    throw new UnsupportedOperationException();
                }

                @Override
                public Signed signVersions(Map<String, String> byKey, Duration ttl) {
                    Map<String, String> out = new LinkedHashMap<>();
                    byKey.forEach((key, version) -> out.put(key, presigner.presignGetObject(p -> p.signatureDuration(ttl)
                            .getObjectRequest(g -> g.bucket("tidemark").key(key).versionId(version))).url().toString()));
                    return new Signed(out, java.util.Optional.empty());
                }
            };
            UrlSigner own = new SigV4UrlSigner(credentials, "us-east-1", "tidemark", endpoint, true, Clock.systemUTC());
            // the planner's signer first: it pays the JCA's warm-up (SHA-256, HMAC) that both share
            Map<String, UrlSigner> signers = new LinkedHashMap<>();
            signers.put("SigV4UrlSigner", own);
            signers.put("S3Presigner", sdk);
            for (var e : signers.entrySet()) {
                long[] ms = new long[ROUNDS];
                for (int r = 0; r < ROUNDS; r++) {
                    long t0 = System.nanoTime();
                    assertEquals(FILES, e.getValue().signVersions(versions, Duration.ofHours(1)).urls().size());
                    ms[r] = (System.nanoTime() - t0) / 1_000;
                }
                long first = ms[0];
                Arrays.sort(ms);
                System.out.printf("%-14s %d URLs: first %.1f ms, median %.1f ms, min %.1f ms, max %.1f ms%n",
                        e.getKey(), FILES, first / 1e3, ms[ROUNDS / 2] / 1e3, ms[0] / 1e3, ms[ROUNDS - 1] / 1e3);
            }
        }
    }
}
