package io.tidemark.localcloud;

import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code DIR/tidemark.conf}: the client configuration (Java properties) that points a node, the
 * CLI or a test at a running local cloud. Rewritten atomically at each start; mode 600 as it
 * holds the secret key.
 */
final class ClientConfigFile {

    static final String FILE_NAME = "tidemark.conf";

    static final String S3_ENDPOINT = "s3.endpoint";
    static final String S3_REGION = "s3.region";
    static final String S3_BUCKET = "s3.bucket";
    static final String S3_PATH_STYLE = "s3.pathStyle";
    static final String S3_ACCESS_KEY_ID = "s3.accessKeyId";
    static final String S3_SECRET_ACCESS_KEY = "s3.secretAccessKey";
    static final String S3_CA_FILE = "s3.caFile";
    static final String API_URL = "api.url";
    static final String API_KEY = "api.key";
    static final String DYNAMODB_ENDPOINT = "dynamodb.endpoint";
    static final String DYNAMODB_TABLE = "dynamodb.table";
    static final String PLAN_PUBLIC_KEY = "plan.publicKey";

    private ClientConfigFile() {
    }

    static Map<String, String> entries(LocalCloud cloud) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put(S3_ENDPOINT, cloud.s3Endpoint().toString());
        m.put(S3_REGION, cloud.region());
        m.put(S3_BUCKET, cloud.bucket());
        m.put(S3_PATH_STYLE, "true");
        if (!cloud.enforcing()) {
            m.put(S3_ACCESS_KEY_ID, cloud.credentials().accessKeyId());
            m.put(S3_SECRET_ACCESS_KEY, cloud.credentials().secretAccessKey());
        } else if (cloud.nodeStanza() != null) {
            // with enforcement no key goes to clients: a node reads its stanza's role credentials
            // from credentials.uri; this file is a node config for the stanza local-cloud was told of
            m.put("stanza", cloud.nodeStanza());
            m.put("credentials.uri", cloud.nodeCredentialsUri(cloud.nodeStanza()).toString());
            // the stanza's API key: API Gateway (and the local API gate) refuses a call without one
            m.put(API_KEY, cloud.apiKey(cloud.nodeStanza()));
        }
        cloud.s3CaFile().ifPresent(ca -> m.put(S3_CA_FILE, ca.toString()));
        m.put(API_URL, cloud.apiUrl().toString());
        m.put(DYNAMODB_ENDPOINT, cloud.dynamoDbEndpoint().toString());
        m.put(DYNAMODB_TABLE, cloud.table());
        m.put(PLAN_PUBLIC_KEY, cloud.planKey().publicKeyBase64());
        return m;
    }

    static Path write(Path dir, Map<String, String> entries) throws IOException {
        return write(dir, entries, null);
    }

    /** As above; {@code credentialsBase} (with enforcement) is noted for node configs. */
    static Path write(Path dir, Map<String, String> entries, java.net.URI credentialsBase) throws IOException {
        Path file = dir.resolve(FILE_NAME);
        Path tmp = Files.createTempFile(dir, ".tidemark", ".conf.tmp");
        try {
            try {
                Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
            } catch (UnsupportedOperationException e) {
                // not a POSIX file system
            }
            try (Writer w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
                w.write("# Tidemark client configuration for the local cloud in " + dir.toAbsolutePath() + "\n");
                w.write("# Written by `tidemark local-cloud` each time it starts; edits are lost.\n");
                w.write("# s3.* and api.url are what a node needs; dynamodb.* is for tools and tests\n");
                w.write("# (nodes never talk to the catalog directly). Keep this file private: it holds\n");
                w.write(credentialsBase == null
                        ? "# the local secret key. IAM is not enforced (LocalCloud.Builder.enforce turns it on).\n"
                        : "# no AWS key, only the API key of the stanza it names (api.key).\n");
                w.write("# plan.publicKey verifies restore plans (base64 DER of DIR/plan-key.pem's public key).\n");
                if (credentialsBase != null) {
                    w.write("# IAM is enforced: this file holds no AWS key. A node of stanza S adds\n");
                    w.write("#   credentials.uri=" + credentialsBase + "node/S\n");
                    w.write("#   api.key=<the value at " + credentialsBase + "api-key/S>\n");
                    w.write("# (its role's session credentials); the operator's are at " + credentialsBase + "operator\n");
                }
                for (Map.Entry<String, String> e : entries.entrySet()) {
                    w.write(e.getKey() + "=" + escape(e.getValue()) + "\n");
                }
            }
            try {
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
        return file;
    }

    /** Escapes a property value the way {@link java.util.Properties#load} reads it back. */
    private static String escape(String value) {
        StringBuilder sb = new StringBuilder(value.length());
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            switch (c) {
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                case ' ' -> sb.append(i == 0 ? "\\ " : " ");
                default -> sb.append(c);
            }
        }
        return sb.toString();
    }
}
