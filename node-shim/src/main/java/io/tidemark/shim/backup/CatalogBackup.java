package io.tidemark.shim.backup;

import com.fasterxml.jackson.databind.JsonNode;
import io.tidemark.events.layout.BackupLabelName;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** One entry of {@code backups[]} in {@code GET /stanzas/{stanza}}, as far as the backup command needs it. */
public record CatalogBackup(BackupLabelName label, String status, Optional<BackupLabelName> prior, List<String> reasons) {

    public static final String VALID = "valid";

    public boolean isValid() {
        return VALID.equals(status);
    }

    /** The entries of a stanza document; entries whose label does not parse are ignored. */
    public static List<CatalogBackup> fromStanzaDocument(JsonNode doc) {
        List<CatalogBackup> out = new ArrayList<>();
        for (JsonNode b : doc.path("backups")) {
            try {
                BackupLabelName label = BackupLabelName.parse(b.path("label").asText(null));
                JsonNode p = b.path("prior");
                Optional<BackupLabelName> prior = p.isTextual() ? Optional.of(BackupLabelName.parse(p.asText()))
                        : Optional.empty();
                List<String> reasons = new ArrayList<>();
                b.path("reasons").forEach(r -> reasons.add(r.asText()));
                out.add(new CatalogBackup(label, b.path("status").asText(""), prior, reasons));
            } catch (IllegalArgumentException ignored) {
                // not ours to judge here
            }
        }
        return out;
    }
}
