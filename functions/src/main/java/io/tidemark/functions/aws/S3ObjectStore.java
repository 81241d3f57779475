package io.tidemark.functions.aws;

import io.tidemark.functions.catalog.ObjectStore;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import software.amazon.awssdk.core.ResponseBytes;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.CommonPrefix;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;

/** {@link ObjectStore} on one S3 bucket. */
public final class S3ObjectStore implements ObjectStore {

    private final S3Client s3;
    private final String bucket;

    public S3ObjectStore(S3Client s3, String bucket) {
        this.s3 = s3;
        this.bucket = bucket;
    }

    @Override
    public Optional<StoredObject> get(String key) {
        return get(key, null);
    }

    /** GET of one version ({@code versionId} null: the current one); a version that is not there reads as absent. */
    @Override
    public Optional<StoredObject> get(String key, String versionId) {
        return ifExists(() -> {
            ResponseBytes<GetObjectResponse> r = s3.getObjectAsBytes(b -> b.bucket(bucket).key(key).versionId(versionId));
            return new StoredObject(r.asByteArray(), lower(r.response().metadata()), r.response().lastModified(),
                    r.response().versionId());
        });
    }

    @Override
    public Optional<InputStream> open(String key) {
        return ifExists(() -> s3.getObject(b -> b.bucket(bucket).key(key)));
    }

    @Override
    public Optional<OpenedObject> openVersion(String key) {
        return ifExists(() -> {
            ResponseInputStream<GetObjectResponse> in = s3.getObject(b -> b.bucket(bucket).key(key));
            return new OpenedObject(in, ObjectStore.versionOrNull(in.response().versionId()));
        });
    }

    @Override
    public Optional<ObjectInfo> head(String key) {
        return ifExists(() -> {
            HeadObjectResponse r = s3.headObject(b -> b.bucket(bucket).key(key));
            return new ObjectInfo(r.contentLength() == null ? -1 : r.contentLength(), lower(r.metadata()), r.lastModified(),
                    r.objectLockRetainUntilDate());
        });
    }

    @Override
    public void delete(String key) {
        try {
            s3.deleteObject(b -> b.bucket(bucket).key(key));
        } catch (NoSuchKeyException e) {
            // already gone: a re-run after a crash halfway
        }
    }

    @Override
    public List<ListedObject> list(String prefix) {
        List<ListedObject> out = new ArrayList<>();
        for (S3Object o : s3.listObjectsV2Paginator(b -> b.bucket(bucket).prefix(prefix)).contents()) {
            out.add(new ListedObject(o.key(), o.size() == null ? 0 : o.size(), o.lastModified()));
        }
        return out;
    }

    @Override
    public List<String> childPrefixes(String prefix) {
        List<String> out = new ArrayList<>();
        for (CommonPrefix p : s3.listObjectsV2Paginator(b -> b.bucket(bucket).prefix(prefix).delimiter("/"))
                .commonPrefixes()) {
            out.add(p.prefix());
        }
        return out;
    }

    @Override
    public void put(String key, byte[] content, String contentType, Map<String, String> metadata) {
        s3.putObject(b -> b.bucket(bucket).key(key).contentType(contentType).metadata(metadata),
                RequestBody.fromBytes(content));
    }

    private static Map<String, String> lower(Map<String, String> m) {
        Map<String, String> out = new TreeMap<>();
        if (m != null) {
            m.forEach((k, v) -> out.put(k.toLowerCase(Locale.ROOT), v));
        }
        return out;
    }

    /** The call's result, or empty when S3 says the object is not there (404, NoSuchKey). */
    private static <T> Optional<T> ifExists(java.util.function.Supplier<T> call) {
        try {
            return Optional.of(call.get());
        } catch (NoSuchKeyException e) {
            return Optional.empty();
        } catch (S3Exception e) {
            if (e.statusCode() == 404) {
                return Optional.empty();
            }
            throw e;
        }
    }
}
