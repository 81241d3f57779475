package io.tidemark.localcloud;

import io.tidemark.localcloud.iam.AccessRequest;
import io.tidemark.localcloud.iam.Principal;
import java.io.InputStream;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.gaul.s3proxy.blobstore.BlobStore;
import org.gaul.s3proxy.blobstore.ForwardingBlobStore;
import org.gaul.s3proxy.blobstore.HttpResponse;
import org.gaul.s3proxy.blobstore.HttpResponseException;
import org.gaul.s3proxy.blobstore.KeyNotFoundException;
import org.gaul.s3proxy.blobstore.domain.Blob;
import org.gaul.s3proxy.blobstore.domain.BlobAccess;
import org.gaul.s3proxy.blobstore.domain.BlobMetadata;
import org.gaul.s3proxy.blobstore.domain.ContainerAccess;
import org.gaul.s3proxy.blobstore.domain.MultipartPart;
import org.gaul.s3proxy.blobstore.domain.MultipartUpload;
import org.gaul.s3proxy.blobstore.domain.PageSet;
import org.gaul.s3proxy.blobstore.domain.StorageMetadata;
import org.gaul.s3proxy.blobstore.options.CopyOptions;
import org.gaul.s3proxy.blobstore.options.CreateContainerOptions;
import org.gaul.s3proxy.blobstore.options.GetOptions;
import org.gaul.s3proxy.blobstore.options.ListContainerOptions;
import org.gaul.s3proxy.blobstore.options.PutOptions;

/**
 * The blob store one principal sees through S3Proxy: each operation is judged as the S3 action
 * AWS authorizes it by, on the object's or bucket's ARN, before it reaches the store. A denial
 * throws S3Proxy's {@link HttpResponseException} with status 403, which S3Proxy answers as S3's
 * {@code 403 AccessDenied} (checked in S3ProxyHandlerJetty of 4.0.0: 403 maps to ACCESS_DENIED).
 *
 * <p>S3Proxy also reads objects inside writes (a conditional PUT asks whether the key exists):
 * those reads are part of the write and are not judged again, as AWS authorizes a conditional
 * PutObject by s3:PutObject alone. Multipart uploads keep {@code .s3proxy-mpu-stub-<uploadId>}
 * objects: writing one is judged as s3:PutObject on the request's key, removing one (which
 * S3Proxy does before it aborts) as s3:AbortMultipartUpload on it when the request is a DELETE,
 * so a refused abort leaves the upload whole. The HTTP method and key of the request, which
 * {@link S3KeyFilter} notes for this thread, tell these apart; writes carry the request's
 * {@code s3:if-none-match} and {@code s3:ObjectCreationOperation} the filter read from it.
 */
final class EnforcingBlobStore extends ForwardingBlobStore {

    private static final String STUB_PREFIX = ".s3proxy";

    private final Principal principal;
    private final Enforcement enforcement;

    EnforcingBlobStore(BlobStore delegate, Principal principal, Enforcement enforcement) {
        super(delegate);
        this.principal = principal;
        this.enforcement = enforcement;
    }

    private void check(String action, String resource, Map<String, String> context) {
        if (!enforcement.allows(principal, new AccessRequest(action, resource, context))) {
            throw new HttpResponseException(principal.name() + " may not " + action + " on " + resource,
                    new HttpResponse(403));
        }
    }

    private void object(String action, String key) {
        if (key.startsWith(STUB_PREFIX)) {
            // S3Proxy's own bookkeeping of a multipart upload: judged as the request on its object
            String requestKey = S3KeyFilter.currentKey();
            if (action.equals("s3:GetObject") || action.equals("s3:ListMultipartUploadParts")) {
                return; // reading the stub is part of whichever upload step the request is
            }
            if (requestKey == null) {
                throw new HttpResponseException(principal.name() + " may not touch " + key, new HttpResponse(403));
            }
            String as = action.equals("s3:DeleteObject")
                    ? ("DELETE".equals(S3KeyFilter.currentMethod()) ? "s3:AbortMultipartUpload" : "s3:PutObject")
                    : action;
            check(as, enforcement.identities().objectArn(requestKey), context(as));
            return;
        }
        check(action, enforcement.identities().objectArn(key), context(action));
    }

    /**
     * A write is judged with the request's {@code s3:if-none-match} and
     * {@code s3:ObjectCreationOperation} ({@link S3KeyFilter#writeContext}), so that the bucket
     * policy's create-only rule holds here as in AWS: a node's PUT without {@code If-None-Match}
     * over its stanza is 403, with it S3Proxy's own check answers 412 when the key exists.
     */
    private static Map<String, String> context(String action) {
        return action.equals("s3:PutObject") ? S3KeyFilter.writeContext() : Map.of();
    }

    private void bucket(String action) {
        check(action, enforcement.identities().bucketArn(), Map.of());
    }

    /** A read S3Proxy makes inside a write (PUT/POST/DELETE) belongs to the write. */
    private static boolean insideWrite() {
        String m = S3KeyFilter.currentMethod();
        return m != null && !m.equals("GET") && !m.equals("HEAD");
    }

    @Override
    public PageSet<? extends StorageMetadata> list() {
        check("s3:ListAllMyBuckets", "*", Map.of());
        return super.list();
    }

    @Override
    public PageSet<? extends StorageMetadata> list(String container, ListContainerOptions options) {
        String prefix = options == null ? null : options.prefix();
        check("s3:ListBucket", enforcement.identities().bucketArn(),
                prefix == null ? Map.of() : Map.of("s3:prefix", prefix));
        return super.list(container, options);
    }

    @Override
    public boolean containerExists(String container) {
        if (!insideWrite()) {
            bucket("s3:ListBucket"); // HeadBucket is authorized as s3:ListBucket
        }
        return super.containerExists(container);
    }

    @Override
    public boolean createContainer(String container, CreateContainerOptions options) {
        bucket("s3:CreateBucket");
        return super.createContainer(container, options);
    }

    @Override
    public ContainerAccess getContainerAccess(String container) {
        if (!insideWrite()) {
            bucket("s3:GetBucketAcl");
        }
        return super.getContainerAccess(container);
    }

    @Override
    public void setContainerAccess(String container, ContainerAccess access) {
        bucket("s3:PutBucketAcl");
        super.setContainerAccess(container, access);
    }

    @Override
    public void clearContainer(String container, ListContainerOptions options) {
        bucket("s3:DeleteBucket");
        super.clearContainer(container, options);
    }

    @Override
    public void deleteContainer(String container) {
        bucket("s3:DeleteBucket");
        super.deleteContainer(container);
    }

    @Override
    public boolean deleteContainerIfEmpty(String container) {
        bucket("s3:DeleteBucket");
        return super.deleteContainerIfEmpty(container);
    }

    @Override
    public boolean blobExists(String container, String name) {
        if (!insideWrite()) {
            object("s3:GetObject", name);
        }
        return super.blobExists(container, name);
    }

    @Override
    public String putBlob(String container, Blob blob, PutOptions options) {
        object("s3:PutObject", blob.getMetadata().name());
        return super.putBlob(container, blob, options);
    }

    @Override
    public String copyBlob(String fromContainer, String fromName, String toContainer, String toName,
            CopyOptions options) {
        object("s3:GetObject", fromName);
        object("s3:PutObject", toName);
        return super.copyBlob(fromContainer, fromName, toContainer, toName, options);
    }

    @Override
    public BlobMetadata blobMetadata(String container, String name) {
        if (insideWrite()) {
            return super.blobMetadata(container, name);
        }
        object("s3:GetObject", name); // HeadObject is authorized as s3:GetObject
        BlobMetadata m;
        try {
            m = super.blobMetadata(container, name);
        } catch (KeyNotFoundException e) {
            missing(name);
            throw e;
        }
        if (m == null) {
            missing(name);
        }
        return m;
    }

    @Override
    public Blob getBlob(String container, String name, GetOptions options) {
        if (insideWrite()) {
            return super.getBlob(container, name, options);
        }
        object("s3:GetObject", name);
        Blob b;
        try {
            b = super.getBlob(container, name, options);
        } catch (KeyNotFoundException e) {
            missing(name);
            throw e;
        }
        if (b == null) {
            missing(name);
        }
        return b;
    }

    /**
     * A GET or HEAD of a key that does not exist: AWS answers 404 NoSuchKey only to a caller that
     * may also list it (s3:ListBucket, judged here with s3:prefix = the key), else 403 AccessDenied,
     * so that a caller learns nothing about keys it cannot list.
     */
    private void missing(String name) {
        if (!name.startsWith(STUB_PREFIX)) {
            check("s3:ListBucket", enforcement.identities().bucketArn(), Map.of("s3:prefix", name));
        }
    }

    @Override
    public void removeBlob(String container, String name) {
        object("s3:DeleteObject", name);
        super.removeBlob(container, name);
    }

    @Override
    public void removeBlobs(String container, Iterable<String> names) {
        // DeleteObjects is authorized key by key as s3:DeleteObject; one refused key refuses the call here
        for (String name : names) {
            object("s3:DeleteObject", name);
        }
        super.removeBlobs(container, names);
    }

    @Override
    public BlobAccess getBlobAccess(String container, String name) {
        if (!insideWrite()) {
            object("s3:GetObjectAcl", name); // a completing multipart upload reads its ACL: part of the write
        }
        return super.getBlobAccess(container, name);
    }

    @Override
    public void setBlobAccess(String container, String name, BlobAccess access) {
        object("s3:PutObjectAcl", name);
        super.setBlobAccess(container, name, access);
    }

    @Override
    public MultipartUpload initiateMultipartUpload(String container, BlobMetadata metadata, PutOptions options) {
        object("s3:PutObject", metadata.name());
        return super.initiateMultipartUpload(container, metadata, options);
    }

    @Override
    public void abortMultipartUpload(MultipartUpload mpu) {
        object("s3:AbortMultipartUpload", mpu.blobName());
        super.abortMultipartUpload(mpu);
    }

    @Override
    public String completeMultipartUpload(MultipartUpload mpu, List<MultipartPart> parts) {
        object("s3:PutObject", mpu.blobName());
        return super.completeMultipartUpload(mpu, parts);
    }

    @Override
    public MultipartPart uploadMultipartPart(MultipartUpload mpu, int partNumber, InputStream payload,
            long contentLength, com.google.common.hash.HashCode md5) {
        object("s3:PutObject", mpu.blobName());
        return super.uploadMultipartPart(mpu, partNumber, payload, contentLength, md5);
    }

    @Override
    public List<MultipartPart> listMultipartUpload(MultipartUpload mpu) {
        if (!insideWrite()) {
            object("s3:ListMultipartUploadParts", mpu.blobName());
        }
        return super.listMultipartUpload(mpu);
    }

    @Override
    public List<MultipartUpload> listMultipartUploads(String container) {
        if (!insideWrite()) {
            bucket("s3:ListBucketMultipartUploads");
        }
        return super.listMultipartUploads(container);
    }

    @Override
    public String toString() {
        return "EnforcingBlobStore[" + principal.name().toLowerCase(Locale.ROOT) + "]";
    }
}
