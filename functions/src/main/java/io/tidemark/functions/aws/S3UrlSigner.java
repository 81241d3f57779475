package io.tidemark.functions.aws;

import io.tidemark.functions.plan.UrlSigner;
import java.time.Duration;
import software.amazon.awssdk.services.s3.presigner.S3Presigner;

/** Presigned GETs of the archive bucket (SigV4 query string, computed locally: no request to S3). */
public final class S3UrlSigner implements UrlSigner {
    private final S3Presigner presigner;
    private final String bucket;

    public S3UrlSigner(S3Presigner presigner, String bucket) {
        this.presigner = presigner;
        this.bucket = bucket;
    }

    @Override
    public String presignGet(String key, Duration ttl) {
        return presigner.presignGetObject(p -> p.signatureDuration(ttl)
                .getObjectRequest(g -> g.bucket(bucket).key(key))).url().toString();
    }

    @Override
    public Signed signVersions(java.util.Map<String, String> versionsByKey, Duration ttl) {
        java.util.Map<String, String> out = new java.util.LinkedHashMap<>();
        versionsByKey.forEach((key, version) -> out.put(key, presigner.presignGetObject(p -> p.signatureDuration(ttl)
                .getObjectRequest(g -> g.bucket(bucket).key(key).versionId(version))).url().toString()));
        return new Signed(out, java.util.Optional.empty());
    }
}
