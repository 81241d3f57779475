package io.tidemark.shim.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.URI;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.endpoints.S3EndpointParams;
import software.amazon.awssdk.services.s3.endpoints.S3EndpointProvider;

/** The fixed endpoint answers what S3's own endpoint rules answer for a configured endpoint. */
@Tag("unit")
class FixedEndpointTest {
    @ParameterizedTest
    @CsvSource({
            "http://127.0.0.1:9850, tidemark, true",
            "http://127.0.0.1:9850/, tidemark, true",
            "https://s3.example.com:8443/base, wal.archive-1, true",
            "https://s3.example.com, tidemark, false",
            "https://s3.example.com:8443/base/, tidemark-2, false",
    })
    void sameUrlAsTheRules(String endpoint, String bucket, boolean pathStyle) {
        S3EndpointParams params = S3EndpointParams.builder().bucket(bucket).endpoint(endpoint)
                .forcePathStyle(pathStyle).region(Region.US_EAST_1).build();
        URI rules = S3EndpointProvider.defaultProvider().resolveEndpoint(params).join().url();
        URI fixed = SdkObjectStore.fixedEndpoint(URI.create(endpoint), pathStyle).resolveEndpoint(params).join().url();
        assertEquals(rules, fixed);
    }
}
