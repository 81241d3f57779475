package io.tidemark.localcloud;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tidemark.functions.runtime.AwsClients;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

/** DynamoDB Local's file under the cloud directory, or on a RAM filesystem in test JVMs. */
@Tag("localcloud")
class DynamoDbDirectoryTest {

    @TempDir
    Path dir;

    @TempDir
    Path ram;

    @Test
    void withoutTheFlagTheFileStaysUnderTheCloudDirectory() {
        assertEquals(dir.resolve("dynamodb"), DynamoDbDirectory.of(dir, false, ram));
        assertEquals(dir.resolve("dynamodb"), DynamoDbDirectory.of(dir, true, ram.resolve("absent")),
                "no RAM filesystem: under the cloud directory");
    }

    @Test
    void withTheFlagEachCloudDirectoryHasItsOwnPlaceInThisJvmsDirectory() {
        Path a = DynamoDbDirectory.of(dir.resolve("a"), true, ram);
        Path own = ram.resolve("tidemark-dynamodb-" + ProcessHandle.current().pid());
        assertEquals(own, a.getParent());
        assertEquals(a, DynamoDbDirectory.of(dir.resolve("a"), true, ram), "a restart on the same directory finds it");
        assertEquals(a, DynamoDbDirectory.of(dir.resolve("x/../a"), true, ram));
        assertNotEquals(a, DynamoDbDirectory.of(dir.resolve("b"), true, ram));
    }

    @Test
    void directoriesOfJvmsThatAreGoneAreRemoved() throws Exception {
        Path dead = Files.createDirectories(ram.resolve("tidemark-dynamodb-999999999/abc"));
        Files.writeString(dead.resolve("shared-local-instance.db"), "x");
        Path live = Files.createDirectories(ram.resolve("tidemark-dynamodb-1"));
        Path other = Files.createDirectories(ram.resolve("someone-else"));
        DynamoDbDirectory.of(dir, true, ram);
        assertFalse(Files.exists(dead.getParent()));
        assertTrue(Files.exists(live), "pid 1 runs");
        assertTrue(Files.exists(other));
    }

    @Test
    void aCloudInATestJvmKeepsItsItemsOffTheCloudDirectoryAndAcrossARestart() throws Exception {
        assertTrue(Boolean.getBoolean(DynamoDbDirectory.IN_RAM_PROPERTY), "set by the build for test JVMs");
        Map<String, AttributeValue> item = Map.of("PK", AttributeValue.fromS("STANZA#main"),
                "SK", AttributeValue.fromS("WINDOW"), "from", AttributeValue.fromS("0/3000028"));
        try (LocalCloud cloud = LocalCloud.builder().dir(dir).start();
                AwsClients aws = AwsClients.create(cloud.functionConfig())) {
            aws.dynamoDb().putItem(b -> b.tableName("tidemark").item(item));
        }
        assertFalse(Files.exists(dir.resolve("dynamodb")));
        try (Stream<Path> files = Files.walk(DynamoDbDirectory.of(dir))) {
            List<Path> db = files.filter(p -> p.toString().endsWith(".db")).toList();
            assertEquals(1, db.size(), "DynamoDB Local's SQLite file: " + db);
            assertTrue(db.get(0).startsWith(Path.of("/dev/shm")), db.get(0).toString());
        }
        try (LocalCloud cloud = LocalCloud.builder().dir(dir).start();
                AwsClients aws = AwsClients.create(cloud.functionConfig())) {
            assertEquals("0/3000028", aws.dynamoDb().getItem(b -> b.tableName("tidemark")
                    .key(Map.of("PK", item.get("PK"), "SK", item.get("SK"))).consistentRead(true)).item().get("from").s());
        }
    }
}
