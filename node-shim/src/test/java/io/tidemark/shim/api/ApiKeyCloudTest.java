package io.tidemark.shim.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tidemark.events.layout.StanzaName;
import io.tidemark.localcloud.LocalCloud;
import io.tidemark.localcloud.LocalCloudFunctions;
import io.tidemark.localcloud.iam.StackAccess;
import io.tidemark.shim.storage.CredentialSource;
import io.tidemark.shim.storage.Retry;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shim against the local cloud that enforces the stack's API keys (every method requires one,
 * as in AWS), with the node role's own credentials: without {@code api.key}, or with a key the API
 * never issued, every call is API Gateway's 403 {@code Forbidden}, and the shim's error tells the
 * operator to set {@code api.key}; with its stanza's key (or, as in AWS, any stanza's: IAM judges
 * the caller) the call goes through.
 */
@Tag("unit")
class ApiKeyCloudTest {

    @TempDir
    static Path dir;
    static LocalCloud cloud;

    @BeforeAll
    static void start() {
        StackAccess access = LocalCloud.defaultStackAccess();
        cloud = LocalCloudFunctions.register(LocalCloud.builder()).dir(dir).enforce(access, access).start();
    }

    @AfterAll
    static void stop() {
        if (cloud != null) {
            cloud.close();
        }
    }

    private static CatalogApi api(Optional<String> apiKey) {
        return new CatalogApi(cloud.apiUrl(), cloud.region(), CredentialSource.endpoint(cloud.nodeCredentialsUri("main")),
                Retry.of(0), apiKey);
    }

    @Test
    void withoutAKeyTheShimSaysToSetApiKey() {
        ApiException e = assertThrows(ApiException.class, () -> api(Optional.empty()).stanza(StanzaName.of("main")));
        assertEquals(403, e.status());
        assertTrue(e.getMessage().contains("HTTP 403: Forbidden: API Gateway refused the API key (x-api-key): none was"
                + " sent; set api.key in tidemark.conf to this stanza's key"), e.getMessage());
    }

    @Test
    void aKeyTheApiNeverIssuedIsForbiddenToo() {
        ApiException e = assertThrows(ApiException.class,
                () -> api(Optional.of("made-up-key-0123456789abcdefghij")).stanza(StanzaName.of("main")));
        assertEquals(403, e.status());
        assertTrue(e.getMessage().contains("api.key in tidemark.conf is not a key of this API"), e.getMessage());
    }

    @Test
    void itsStanzasKeyOrAnotherStanzasPassesTheKeyCheck() {
        // no stanza yet: the function answers 404, so the call got past the key check and IAM
        assertEquals(Optional.empty(), api(Optional.of(cloud.apiKey("main"))).stanza(StanzaName.of("main")));
        assertEquals(Optional.empty(), api(Optional.of(cloud.apiKey("elsewhere"))).stanza(StanzaName.of("main")));
    }
}
