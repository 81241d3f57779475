package io.tidemark.functions;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tidemark.events.layout.Compression;
import io.tidemark.events.layout.StanzaName;
import io.tidemark.functions.index.TestWal;
import io.tidemark.functions.runtime.AwsClients;
import io.tidemark.localcloud.LocalCloud;
import io.tidemark.localcloud.LocalCloudFunctions;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import software.amazon.awssdk.core.sync.RequestBody;

/**
 * A real local cloud with the Tidemark functions registered as {@code tidemark local-cloud}
 * does, plus a recorder that keeps every S3 event JSON, and an HTTP client for its API.
 */
public final class CloudFixture implements AutoCloseable {

    public static final ObjectMapper MAPPER = new ObjectMapper();

    public final LocalCloud cloud;
    public final AwsClients aws;
    public final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    /** Every S3 event delivered, as JSON bytes. */
    public final List<byte[]> events = new CopyOnWriteArrayList<>();

    public CloudFixture(Path dir) {
        this(dir, false);
    }

    /** With {@code writeConfig}, {@code DIR/tidemark.conf} is written as {@code tidemark local-cloud} does. */
    public CloudFixture(Path dir, boolean writeConfig) {
        this(dir, LocalCloudFunctions.register(LocalCloud.builder()).writeConfigFile(writeConfig));
    }

    /** On {@code builder} (the functions registered, settings given), plus the recorder. */
    public CloudFixture(Path dir, LocalCloud.Builder builder) {
        cloud = builder
                .dir(dir)
                .retryDelays(Duration.ofMillis(20), Duration.ofMillis(40))
                .onObjectCreated("recorder", null, null, config -> (in, out, ctx) -> events.add(in.readAllBytes()))
                .start();
        aws = AwsClients.create(cloud.functionConfig());
    }

    public record Answer(int status, JsonNode json) {
    }

    public Answer call(String method, String path, String body) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(cloud.apiUrl() + path))
                .timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json");
        b.method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                : HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8));
        HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        return new Answer(r.statusCode(), r.body().isEmpty() ? null : MAPPER.readTree(r.body()));
    }

    public static String stanzaBody(String systemId, int segmentSize) {
        return "{\"systemIdentifier\":\"" + systemId + "\",\"pgVersion\":15,\"pgVersionNum\":150004,\"walSegmentSize\":"
                + segmentSize + "}";
    }

    /** {@code PUT /stanzas/{stanza}} with {@link TestWal}'s system identifier and segment size; asserts 200. */
    public void createStanza(String stanza) throws IOException, InterruptedException {
        Answer a = call("PUT", "/stanzas/" + stanza, stanzaBody(TestWal.SYSTEM_ID_TEXT, TestWal.SIZE.bytes()));
        if (a.status() != 200) {
            throw new AssertionError("stanza-create " + stanza + ": HTTP " + a.status() + " " + a.json());
        }
    }

    /** Uploads segment {@code i} of {@code wal} zstd-compressed with its sha256, as archive-push does; returns the key. */
    public String uploadWal(String stanza, TestWal wal, int i) {
        String key = wal.key(StanzaName.of(stanza), i, Compression.ZSTD);
        byte[] raw = wal.segments.get(i);
        put(key, TestWal.compress(Compression.ZSTD, raw), Map.of("sha256", TestWal.sha256(raw)));
        return key;
    }

    public void put(String key, byte[] content, Map<String, String> metadata) {
        aws.s3().putObject(b -> b.bucket(cloud.bucket()).key(key).metadata(metadata), RequestBody.fromBytes(content));
    }

    public void quiesce() throws InterruptedException {
        if (!cloud.awaitQuiescent(Duration.ofSeconds(30))) {
            throw new AssertionError("S3 events still pending");
        }
    }

    @Override
    public void close() {
        aws.close();
        cloud.close();
    }
}
