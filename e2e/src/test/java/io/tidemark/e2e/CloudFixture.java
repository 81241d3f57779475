package io.tidemark.e2e;

import io.tidemark.localcloud.LocalCloud;
import io.tidemark.localcloud.LocalCloudFunctions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * A local cloud with the real product functions, on fixed ports once chosen, so it can be
 * stopped (an outage) and started again on the same directory and endpoints.
 */
public final class CloudFixture implements AutoCloseable {
    private final Path dir;
    private int s3Port;
    private int dynamoPort;
    private int apiPort;
    private LocalCloud cloud;
    private final java.util.Map<String, String> settings;

    public CloudFixture(Path dir) {
        this(dir, java.util.Map.of());
    }

    /** With function settings, e.g. {@code TIDEMARK_RETENTION_POLICIES}. */
    public CloudFixture(Path dir, java.util.Map<String, String> settings) {
        this.dir = dir;
        this.settings = java.util.Map.copyOf(settings);
    }

    public CloudFixture start() {
        LocalCloud.Builder b = LocalCloudFunctions.register(LocalCloud.builder().dir(dir)
                .s3Port(s3Port).dynamoDbPort(dynamoPort).apiPort(apiPort));
        settings.forEach(b::functionSetting);
        cloud = b.start();
        s3Port = cloud.s3Endpoint().getPort();
        dynamoPort = cloud.dynamoDbEndpoint().getPort();
        apiPort = cloud.apiUrl().getPort();
        return this;
    }

    public void stop() {
        if (cloud != null) {
            cloud.close();
            cloud = null;
        }
    }

    public LocalCloud cloud() {
        return cloud;
    }

    /**
     * The client configuration copied where the postgres user can read it, plus a spool
     * directory it can write: what an operator does when installing the shim on a node.
     */
    public Path nodeConfig(Path nodeDir, String extraLines) {
        try {
            Files.createDirectories(nodeDir);
            Path spool = nodeDir.resolve("spool");
            Files.createDirectories(spool);
            Path conf = nodeDir.resolve("tidemark.conf");
            String text = Files.readString(cloud.configFile()) + "\nspool.dir=" + spool + "\n" + extraLines;
            Files.writeString(conf, text);
            Files.setPosixFilePermissions(nodeDir, PosixFilePermissions.fromString("rwxr-xr-x"));
            Files.setPosixFilePermissions(conf, PosixFilePermissions.fromString("rw-r--r--"));
            Files.setPosixFilePermissions(spool, PosixFilePermissions.fromString("rwxrwxrwx"));
            return conf;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        stop();
    }
}
