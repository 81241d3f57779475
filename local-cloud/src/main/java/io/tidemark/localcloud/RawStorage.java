package io.tidemark.localcloud;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import org.gaul.s3proxy.blobstore.BlobStore;
import org.gaul.s3proxy.blobstore.domain.Blob;
import org.gaul.s3proxy.blobstore.domain.PageSet;
import org.gaul.s3proxy.blobstore.domain.StorageMetadata;
import org.gaul.s3proxy.blobstore.options.GetOptions;
import org.gaul.s3proxy.blobstore.options.ListContainerOptions;
import org.gaul.s3proxy.blobstore.options.PutOptions;

/**
 * The bucket's objects written and read behind S3's back, with no key and no policy: what bit rot,
 * a disk error or an attacker with root on the storage host could do. For tests and fault
 * injection only; no product path has such power. Writes and deletes still raise the S3 events
 * the bucket's notifications would (S3 raises them for any writer).
 */
public final class RawStorage {

    private final BlobStore store;
    private final String bucket;

    RawStorage(BlobStore store, String bucket) {
        this.store = store;
        this.bucket = bucket;
    }

    /** Replaces (or creates) the object {@code key} with {@code bytes}. */
    public void write(String key, byte[] bytes) {
        write(key, bytes, java.util.Map.of());
    }

    /** Replaces (or creates) the object {@code key} with {@code bytes} and this user metadata (names without x-amz-meta-). */
    public void write(String key, byte[] bytes, java.util.Map<String, String> metadata) {
        Blob blob = Blob.builder(key).payload(new ByteArrayInputStream(bytes)).contentLength(bytes.length)
                .userMetadata(metadata).build();
        store.putBlob(bucket, blob, PutOptions.NONE);
    }

    /** The object's bytes, or null when there is none. */
    public byte[] read(String key) throws IOException {
        Blob blob = store.getBlob(bucket, key, GetOptions.NONE);
        if (blob == null) {
            return null;
        }
        try (InputStream in = blob.getPayload()) {
            return in.readAllBytes();
        }
    }

    public void delete(String key) {
        store.removeBlob(bucket, key);
    }

    /** Keys under {@code prefix}, in order. */
    public List<String> keys(String prefix) {
        List<String> keys = new ArrayList<>();
        String marker = null;
        do {
            ListContainerOptions.Builder b = ListContainerOptions.builder().prefix(prefix);
            if (marker != null) {
                b.afterMarker(marker);
            }
            PageSet<? extends StorageMetadata> page = store.list(bucket, b.build());
            for (StorageMetadata m : page) {
                keys.add(m.name());
            }
            marker = page.nextMarker();
        } while (marker != null);
        return keys;
    }
}
