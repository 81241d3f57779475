package io.tidemark.localcloud;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tidemark.functions.runtime.AwsClients;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

/** Restart on the same directory, the client configuration file, and clear start-up errors. */
@Tag("localcloud")
class LocalCloudLifecycleTest {

    @TempDir
    Path dir;

    private static Map<String, AttributeValue> key(String pk, String sk) {
        return Map.of("PK", AttributeValue.fromS(pk), "SK", AttributeValue.fromS(sk));
    }

    @Test
    void restartKeepsObjectsItemsAndCredentials() throws Exception {
        LocalCredentials first;
        try (LocalCloud cloud = LocalCloud.builder().dir(dir).start();
                AwsClients aws = AwsClients.create(cloud.functionConfig())) {
            first = cloud.credentials();
            aws.s3().putObject(b -> b.bucket("tidemark").key("main/stanza.json"), RequestBody.fromString("{\"v\":1}"));
            Map<String, AttributeValue> item = new java.util.HashMap<>(key("STANZA#main", "WINDOW"));
            item.put("from", AttributeValue.fromS("0/3000028"));
            aws.dynamoDb().putItem(b -> b.tableName("tidemark").item(item));
            assertEquals("0/3000028", aws.dynamoDb().getItem(b -> b.tableName("tidemark")
                    .key(key("STANZA#main", "WINDOW")).consistentRead(true)).item().get("from").s());
        }
        try (LocalCloud cloud = LocalCloud.builder().dir(dir).start();
                AwsClients aws = AwsClients.create(cloud.functionConfig())) {
            assertEquals(first, cloud.credentials());
            assertEquals("{\"v\":1}", aws.s3().getObjectAsBytes(b -> b.bucket("tidemark").key("main/stanza.json"))
                    .asUtf8String());
            assertEquals("0/3000028", aws.dynamoDb().getItem(b -> b.tableName("tidemark")
                    .key(key("STANZA#main", "WINDOW")).consistentRead(true)).item().get("from").s());
            assertEquals(1, aws.dynamoDb().listTables().tableNames().size());
        }
    }

    @Test
    void writesTheClientConfiguration() throws Exception {
        try (LocalCloud cloud = LocalCloud.builder().dir(dir).start()) {
            Path conf = dir.resolve("tidemark.conf");
            assertEquals(conf, cloud.configFile());
            String text = Files.readString(conf);
            assertTrue(text.startsWith("# Tidemark client configuration"), text);
            Properties p = new Properties();
            try (InputStream in = Files.newInputStream(conf)) {
                p.load(in);
            }
            assertEquals(cloud.s3Endpoint().toString(), p.getProperty("s3.endpoint"));
            assertEquals("us-east-1", p.getProperty("s3.region"));
            assertEquals("tidemark", p.getProperty("s3.bucket"));
            assertEquals("true", p.getProperty("s3.pathStyle"));
            assertEquals(cloud.credentials().accessKeyId(), p.getProperty("s3.accessKeyId"));
            assertEquals(cloud.credentials().secretAccessKey(), p.getProperty("s3.secretAccessKey"));
            assertEquals(cloud.apiUrl().toString(), p.getProperty("api.url"));
            assertEquals(cloud.dynamoDbEndpoint().toString(), p.getProperty("dynamodb.endpoint"));
            assertEquals("tidemark", p.getProperty("dynamodb.table"));
            assertTrue(cloud.s3Endpoint().toString().startsWith("http://127.0.0.1:"));
            if (conf.getFileSystem().supportedFileAttributeViews().contains("posix")) {
                assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(
                        Files.getPosixFilePermissions(conf)));
            }
        }
    }

    @Test
    void busyPortIsAClearError() throws Exception {
        try (ServerSocket busy = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            int port = busy.getLocalPort();
            LocalCloudException s3 = assertThrows(LocalCloudException.class,
                    () -> LocalCloud.builder().dir(dir).s3Port(port).start());
            assertEquals("S3 port " + port + " on 127.0.0.1 is already in use "
                    + "(choose another with --s3-port, or 0 for any free port)", s3.getMessage());
            LocalCloudException api = assertThrows(LocalCloudException.class,
                    () -> LocalCloud.builder().dir(dir).apiPort(port).start());
            assertTrue(api.getMessage().startsWith("API port " + port + " on 127.0.0.1 is already in use"),
                    api.getMessage());
            LocalCloudException ddb = assertThrows(LocalCloudException.class,
                    () -> LocalCloud.builder().dir(dir).dynamoDbPort(port).start());
            assertTrue(ddb.getMessage().startsWith("DynamoDB port " + port + " on 127.0.0.1 is already in use"),
                    ddb.getMessage());
        }
        // everything that had started was stopped again: the directory is free
        try (LocalCloud cloud = LocalCloud.builder().dir(dir).start()) {
            assertTrue(cloud.s3Endpoint().getPort() > 0);
        }
    }

    @Test
    void oneCloudPerDirectory() {
        try (LocalCloud cloud = LocalCloud.builder().dir(dir).start()) {
            LocalCloudException e = assertThrows(LocalCloudException.class,
                    () -> LocalCloud.builder().dir(dir).start());
            assertEquals("another tidemark local-cloud is already running on " + dir.toAbsolutePath().normalize(),
                    e.getMessage());
            assertTrue(cloud.apiUrl().getPort() > 0);
        }
    }

    @Test
    void unusableDirectoryIsAClearError() throws Exception {
        Path file = Files.writeString(dir.resolve("a-file"), "x");
        LocalCloudException e = assertThrows(LocalCloudException.class,
                () -> LocalCloud.builder().dir(file.resolve("cloud")).start());
        assertTrue(e.getMessage().startsWith("cannot create directory " + file.resolve("cloud")), e.getMessage());
    }

    @Test
    void mainPrintsOneReadyLineAndOneErrorLine() throws Exception {
        Path cloudDir = dir.resolve("main");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        // every port free (--credentials-port too): a local cloud on the default ports elsewhere on the machine does not matter
        int status = LocalCloudMain.run(new String[] {"--dir", cloudDir.toString(), "--s3-port", "0",
            "--api-port=0", "--dynamodb-port", "0", "--credentials-port", "0"}, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), false);
        assertEquals(0, status, err.toString(StandardCharsets.UTF_8));
        assertEquals("tidemark local-cloud ready: config written to "
                + cloudDir.toAbsolutePath().normalize().resolve("tidemark.conf") + System.lineSeparator(),
                out.toString(StandardCharsets.UTF_8));
        assertEquals("", err.toString(StandardCharsets.UTF_8));
        // the node config it writes carries stanza main's API key, the one it keeps for main
        java.util.Properties conf = new java.util.Properties();
        java.util.Properties keys = new java.util.Properties();
        try (var in = java.nio.file.Files.newBufferedReader(cloudDir.resolve("tidemark.conf"));
                var k = java.nio.file.Files.newBufferedReader(cloudDir.resolve("api-keys.properties"))) {
            conf.load(in);
            keys.load(k);
        }
        assertEquals("main", conf.getProperty("stanza"));
        assertEquals(keys.getProperty("main"), conf.getProperty("api.key"));
        assertTrue(conf.getProperty("api.key").matches("[A-Za-z0-9]{40}"), conf.toString());

        try (ServerSocket busy = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            int port = busy.getLocalPort();
            out.reset();
            err.reset();
            status = LocalCloudMain.run(new String[] {"--dir", cloudDir.toString(), "--s3-port", "0",
                "--api-port", String.valueOf(port), "--dynamodb-port", "0", "--credentials-port", "0"},
                    new PrintStream(out, true, StandardCharsets.UTF_8),
                    new PrintStream(err, true, StandardCharsets.UTF_8), false);
            assertEquals(1, status);
            String error = err.toString(StandardCharsets.UTF_8);
            assertEquals(1, error.lines().count(), error);
            assertTrue(error.startsWith("tidemark local-cloud: API port " + port + " on 127.0.0.1 is already in use"),
                    error);
            assertEquals("", out.toString(StandardCharsets.UTF_8));
        }
    }

    @Test
    void mainUsageErrors() {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8);
        PrintStream o = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
        assertEquals(2, LocalCloudMain.run(new String[0], o, e, false));
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("--dir DIR is required"));
        err.reset();
        assertEquals(2, LocalCloudMain.run(new String[] {"--dir", "x", "--s3-port", "99999"}, o, e, false));
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("--s3-port must be a port number 0-65535"));
        err.reset();
        assertEquals(2, LocalCloudMain.run(new String[] {"--dir", "x", "--bogus"}, o, e, false));
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("unknown argument: --bogus"));
        assertFalse(Files.exists(Path.of("x")));
    }
}
