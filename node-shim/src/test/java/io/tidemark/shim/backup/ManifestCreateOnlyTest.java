package io.tidemark.shim.backup;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tidemark.events.layout.BackupLabelName;
import io.tidemark.events.layout.StanzaName;
import io.tidemark.events.layout.StorageLayout;
import io.tidemark.shim.cli.CommandFailure;
import io.tidemark.shim.cli.ExitCodes;
import io.tidemark.shim.config.ShimConfig;
import io.tidemark.shim.storage.CreateOnly;
import io.tidemark.shim.storage.CredentialSource;
import io.tidemark.shim.storage.ObjectStore;
import io.tidemark.shim.storage.Stores;
import io.tidemark.shim.support.TestCloud;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The manifest upload of {@code tidemark backup} against a real S3 (local-cloud's S3Proxy): a
 * manifest that is already there is never replaced by a different one, the same bytes are success.
 */
@Tag("localcloud")
class ManifestCreateOnlyTest {

    @TempDir
    Path dir;

    @Test
    void aDifferentManifestForALabelIsRefusedAndTheFirstStays() throws Exception {
        StanzaName stanza = StanzaName.of("m" + UUID.randomUUID().toString().substring(0, 8));
        Path conf = TestCloud.config(TestCloud.cloud(), dir, Map.of("stanza", stanza.value()));
        ShimConfig config = ShimConfig.load(io.tidemark.shim.config.CommonOptions.parse("--config", conf.toString()), Map.of());
        BackupLabelName label = BackupLabelName.parse("20261206-010000F");
        String key = StorageLayout.manifestKey(stanza, label);
        byte[] first = "{\"label\":\"20261206-010000F\",\"files\":[]}".getBytes(StandardCharsets.UTF_8);
        byte[] second = "{\"label\":\"20261206-010000F\",\"files\":[\"forged\"]}".getBytes(StandardCharsets.UTF_8);
        try (ObjectStore store = Stores.open(config, CredentialSource.of(config, Map.of()))) {
            BackupCommand.storeManifest(store, null, stanza, label, first);
            // the same bytes again (an attempt whose answer was lost): success
            BackupCommand.storeManifest(store, null, stanza, label, first);

            CommandFailure f = assertThrows(CommandFailure.class,
                    () -> BackupCommand.storeManifest(store, null, stanza, label, second));
            assertEquals(ExitCodes.FAILED, f.exitCode());
            assertEquals("backup " + label + " already has a different manifest; refusing to replace " + key
                    + " (the archive's sha256 " + CreateOnly.sha256(first) + ", this run's " + CreateOnly.sha256(second)
                    + "): the backup that is there stays as the cloud validated it; run the backup again for a new"
                    + " label, and check the archive (tidemark verify); not reported to the cloud (api.url is not set)",
                    f.getMessage());
            assertArrayEquals(first, store.get(key).orElseThrow().data());
        }
        assertTrue(TestCloud.s3().getObjectAsBytes(b -> b.bucket(TestCloud.cloud().bucket()).key(key)).asUtf8String()
                .contains("\"files\":[]"));
    }
}
