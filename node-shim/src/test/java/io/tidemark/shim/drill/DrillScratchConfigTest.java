package io.tidemark.shim.drill;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tidemark.shim.config.CommonOptions;
import io.tidemark.shim.config.ShimConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The drill's configuration ({@link Drill#scratchConfig}): the node's, its WAL spool moved into the
 * scratch directory. Without it a drill run as root for a postgres server shared the node's
 * root-owned spool, which postgres's archive-get cannot use: every WAL file was a JVM of its own
 * (15-20 s each at load 50 in AgentE2eTest's scheduled drill, 70 s from files restored to
 * consistent for 3 segments).
 */
@Tag("unit")
class DrillScratchConfigTest {
    @TempDir
    Path dir;

    @Test
    void theDrillsConfigurationIsTheNodesWithItsSpoolInTheScratchDirectoryAndKeepsKeysPrivate() throws Exception {
        Path node = dir.resolve("node.conf");
        // no final newline: the appended line must still be a line of its own
        Files.writeString(node, """
                s3.endpoint=http://127.0.0.1:9000
                s3.region=us-east-1
                s3.bucket=tidemark
                s3.accessKeyId=AK
                s3.secretAccessKey=SK
                api.url=http://127.0.0.1:9001
                stanza=main
                archive-get.prefetch=4
                spool.dir=""" + dir.resolve("node-spool"));
        Files.setPosixFilePermissions(node, PosixFilePermissions.fromString("rw-------"));
        Path scratch = Files.createDirectories(dir.resolve("scratch"));

        Path conf = Drill.scratchConfig(node, scratch);

        assertEquals(scratch.resolve("tidemark.conf"), conf);
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(conf)), "it may hold keys");
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(scratch.resolve("spool"))));
        ShimConfig nodeConfig = ShimConfig.load(CommonOptions.parse("--config", node.toString()), Map.of());
        ShimConfig drill = ShimConfig.load(CommonOptions.parse("--config", conf.toString()), Map.of());
        assertEquals(scratch.resolve("spool"), drill.spoolDir(), "the last spool.dir wins");
        assertEquals(nodeConfig.stanza(), drill.stanza());
        assertEquals(nodeConfig.prefetch(), drill.prefetch());
        assertEquals(nodeConfig.keys(), drill.keys());
        // the launcher's fast path reads spool.dir line by line, the last one winning as in Properties
        String text = Files.readString(conf);
        assertTrue(text.startsWith(Files.readString(node) + "\n"), text);
        assertTrue(text.endsWith("\nspool.dir = " + scratch.resolve("spool") + "\n"), text);
    }
}
