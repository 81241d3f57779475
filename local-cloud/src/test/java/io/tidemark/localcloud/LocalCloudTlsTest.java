package io.tidemark.localcloud;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tidemark.functions.runtime.AwsClients;
import io.tidemark.functions.runtime.FunctionConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.sync.RequestBody;

/** The HTTPS S3 endpoint: a self-signed certificate, trusted only through the CA file it writes. */
@Tag("localcloud")
class LocalCloudTlsTest {
    @TempDir
    Path dir;

    @Test
    void httpsEndpointWithItsOwnCaAndEventsStillFire() throws Exception {
        RecordingHandler all = new RecordingHandler();
        String firstCa;
        try (LocalCloud cloud = LocalCloud.builder().dir(dir).tls(true).onObjectCreated(null, null, all).start()) {
            assertEquals("https", cloud.s3Endpoint().getScheme());
            Path ca = cloud.s3CaFile().orElseThrow();
            firstCa = Files.readString(ca);
            assertTrue(firstCa.contains("BEGIN CERTIFICATE"));
            assertTrue(Files.readString(cloud.configFile()).contains("s3.caFile=" + ca));

            try (AwsClients aws = AwsClients.create(cloud.functionConfig())) {
                aws.s3().putObject(b -> b.bucket(cloud.bucket()).key("main/x"), RequestBody.fromString("over tls"));
                assertEquals("over tls", aws.s3().getObjectAsBytes(b -> b.bucket(cloud.bucket()).key("main/x")).asUtf8String());
            }
            assertTrue(cloud.awaitQuiescent(Duration.ofSeconds(10)));
            // one object written (a re-sent PUT would be a second event for the same object)
            assertTrue(!all.events.isEmpty());
            for (String e : all.events) {
                assertEquals("main/x", io.tidemark.functions.runtime.S3EventNotification.parse(e).records().get(0).key());
            }

            Map<String, String> untrusting = new HashMap<>(cloud.functionConfig().toEnvironment());
            untrusting.remove(FunctionConfig.S3_CA_FILE);
            try (AwsClients aws = AwsClients.create(FunctionConfig.of(untrusting))) {
                assertThrows(SdkClientException.class,
                        () -> aws.s3().headObject(b -> b.bucket(cloud.bucket()).key("main/x")));
            }
        }
        try (LocalCloud again = LocalCloud.builder().dir(dir).tls(true).start()) {
            assertEquals(firstCa, Files.readString(again.s3CaFile().orElseThrow()), "the certificate is kept across restarts");
        }
    }
}
