package io.tidemark.localcloud;

import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import org.gaul.s3proxy.blobstore.BlobStore;
import org.gaul.s3proxy.blobstore.ForwardingBlobStore;
import org.gaul.s3proxy.blobstore.domain.Blob;
import org.gaul.s3proxy.blobstore.domain.BlobMetadata;
import org.gaul.s3proxy.blobstore.domain.MultipartPart;
import org.gaul.s3proxy.blobstore.domain.MultipartUpload;
import org.gaul.s3proxy.blobstore.options.CopyOptions;
import org.gaul.s3proxy.blobstore.options.PutOptions;

/**
 * A blob store decorator that raises an S3 ObjectCreated event once an object of the watched
 * bucket is complete and durable: after PutObject, CopyObject and CompleteMultipartUpload
 * return from the underlying store (never for single parts, never for failed or
 * precondition-refused writes, never for S3Proxy's internal {@code .s3proxy*} objects); and an
 * {@code ObjectRemoved:Delete} event after DeleteObject or DeleteObjects removed an object that
 * was there (the bucket is not versioned: a delete removes the object, no delete marker).
 */
final class NotifyingBlobStore extends ForwardingBlobStore {

    private final String bucket;
    private final S3EventDispatcher dispatcher;

    NotifyingBlobStore(BlobStore delegate, String bucket, S3EventDispatcher dispatcher) {
        super(delegate);
        this.bucket = bucket;
        this.dispatcher = dispatcher;
    }

    @Override
    public String putBlob(String container, Blob blob, PutOptions options) {
        String eTag = super.putBlob(container, blob, options);
        Long hint = blob.getMetadata() == null || blob.getMetadata().contentMetadata() == null
                ? null : blob.getMetadata().contentMetadata().contentLength();
        created("ObjectCreated:Put", container, blob.getMetadata().name(), eTag, hint);
        return eTag;
    }

    @Override
    public String copyBlob(String fromContainer, String fromName, String toContainer, String toName,
            CopyOptions options) {
        String eTag = super.copyBlob(fromContainer, fromName, toContainer, toName, options);
        created("ObjectCreated:Copy", toContainer, toName, eTag, null);
        return eTag;
    }

    @Override
    public String completeMultipartUpload(MultipartUpload mpu, List<MultipartPart> parts) {
        String eTag = super.completeMultipartUpload(mpu, parts);
        created("ObjectCreated:CompleteMultipartUpload", mpu.containerName(), mpu.blobName(), eTag, null);
        return eTag;
    }

    @Override
    public void removeBlob(String container, String name) {
        boolean existed = bucket.equals(container) && !isS3ProxyInternal(name)
                && delegate().blobMetadata(container, name) != null;
        super.removeBlob(container, name);
        if (existed) {
            dispatcher.objectEvent(new S3EventJson.ObjectEvent("ObjectRemoved:Delete", Instant.now(), container, name,
                    -1, null, dispatcher.nextSequencer(), requestId(), "127.0.0.1"));
        }
    }

    @Override
    public void removeBlobs(String container, Iterable<String> names) {
        for (String name : names) {
            removeBlob(container, name);
        }
    }

    private static String requestId() {
        byte[] id = new byte[8];
        ThreadLocalRandom.current().nextBytes(id);
        return HexFormat.of().withUpperCase().formatHex(id);
    }

    private void created(String eventName, String container, String key, String eTag, Long sizeHint) {
        if (!bucket.equals(container) || isS3ProxyInternal(key)) {
            return;
        }
        long size = sizeHint == null ? 0 : sizeHint;
        String tag = unquote(eTag);
        BlobMetadata stored = delegate().blobMetadata(container, key);
        if (stored != null) {
            if (stored.size() != null) {
                size = stored.size();
            }
            if (tag == null) {
                tag = unquote(stored.eTag());
            }
        }
        dispatcher.objectEvent(new S3EventJson.ObjectEvent(
                eventName, Instant.now(), container, key, size, tag, dispatcher.nextSequencer(),
                requestId(), "127.0.0.1"));
    }

    /**
     * S3Proxy keeps its own bookkeeping objects in the bucket, written through the same store
     * (for example {@code .s3proxy-mpu-stub-<id>} when a multipart upload is initiated); they are
     * not objects of the S3 API and raise no event.
     */
    static boolean isS3ProxyInternal(String key) {
        return key.startsWith(".s3proxy");
    }

    private static String unquote(String eTag) {
        if (eTag == null) {
            return null;
        }
        String t = eTag.strip();
        if (t.length() >= 2 && t.startsWith("\"") && t.endsWith("\"")) {
            t = t.substring(1, t.length() - 1);
        }
        return t;
    }
}
