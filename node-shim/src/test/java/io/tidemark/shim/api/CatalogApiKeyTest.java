package io.tidemark.shim.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.sun.net.httpserver.HttpServer;
import io.tidemark.events.layout.StanzaName;
import io.tidemark.shim.config.ShimConfig;
import io.tidemark.shim.storage.AwsCredentials;
import io.tidemark.shim.storage.CredentialSource;
import io.tidemark.shim.storage.Retry;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code api.key} from tidemark.conf goes with every API call as {@code x-api-key}: API Gateway
 * counts the call against that stanza's usage plan (the stack requires a key on every method).
 */
@Tag("unit")
class CatalogApiKeyTest {

    @TempDir
    Path dir;

    @Test
    void theConfiguredKeyIsSentWithEveryCallAndNoneWithout() throws Exception {
        List<String> seen = new CopyOnWriteArrayList<>();
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", ex -> {
            ex.getRequestBody().readAllBytes();
            seen.add(String.valueOf(ex.getRequestHeaders().getFirst("x-api-key")));
            byte[] body = "{}".getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(200, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        server.start();
        try {
            URI base = URI.create("http://127.0.0.1:" + server.getAddress().getPort());
            Path conf = dir.resolve("tidemark.conf");
            Files.writeString(conf, "stanza=main\ns3.region=us-east-1\ns3.bucket=tidemark\napi.url=" + base + "\napi.key=k3y-of-main\n");
            ShimConfig config = ShimConfig.load(io.tidemark.shim.config.CommonOptions.parse("--config", conf.toString()), Map.of());
            assertEquals(Optional.of("k3y-of-main"), config.apiKey());
            CredentialSource keys = CredentialSource.fixed(new AwsCredentials("AKIDEXAMPLE", "secret", null));
            new CatalogApi(base, "us-east-1", keys, Retry.of(0), config.apiKey()).getStanza(StanzaName.of("main"));
            new CatalogApi(base, "us-east-1", keys, Retry.of(0), config.apiKey()).restorePlanUrls("p-1");
            new CatalogApi(base, "us-east-1", keys, Retry.of(0)).getStanza(StanzaName.of("main"));
            assertEquals(List.of("k3y-of-main", "k3y-of-main", "null"), seen);
        } finally {
            server.stop(0);
        }
    }

    @Test
    void withoutApiKeyTheConfigHasNone() throws Exception {
        Path conf = dir.resolve("plain.conf");
        Files.writeString(conf, "stanza=main\ns3.region=us-east-1\ns3.bucket=tidemark\n");
        ShimConfig config = ShimConfig.load(io.tidemark.shim.config.CommonOptions.parse("--config", conf.toString()), Map.of());
        assertNull(config.apiKey().orElse(null));
    }
}
