package io.tidemark.shim.storage;

import java.io.ByteArrayInputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.IntConsumer;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.ContentStreamProvider;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.ChecksumAlgorithm;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.UploadPartResponse;

/**
 * A create-only object uploaded in parts, for objects above {@link Multipart#threshold()} (S3
 * takes at most 5 GiB in one PUT). The condition goes where S3 evaluates it: CreateMultipartUpload
 * and UploadPart take no conditional header, CompleteMultipartUpload takes
 * {@code If-None-Match: *} and answers 412 when the key exists, so the upload means what a PUT
 * means to {@link CreateOnly}. Parts go {@code parallel} at a time, each with its CRC-32C (as a
 * header, as the single PUT sends it) and streamed from the file or array, read again by a retry.
 *
 * <p>An upload that does not complete is aborted once no part of it is in flight, so that no part
 * is left to pay for (the node role has s3:AbortMultipartUpload; the bucket's lifecycle rule
 * removes what an abort that itself failed leaves). A 409 on completion (a concurrent conditional
 * write of the key) means S3 wants the upload made again: it is, from the first part, twice at
 * most. A store that ignores the condition on completion (Ceph RGW before conditional multipart
 * support) completes the upload over an existing key, as its PUT does: there the versions and the
 * catalog's pinned version ids are the defence (docs/security.md). A store that refuses it (501,
 * e.g. S3Proxy on a backend without conditional completion) fails the write with that reason.
 */
final class PartedUpload implements AutoCloseable {
    /** The bytes of an object to upload in parts: a spooled file or an array. */
    interface Body {
        long size();

        /** A fresh stream of bytes {@code [offset, offset + length)} for every attempt. */
        ContentStreamProvider range(long offset, long length);

        static Body of(byte[] data) {
            return new Body() {
                @Override
                public long size() {
                    return data.length;
                }

                @Override
                public ContentStreamProvider range(long offset, long length) {
                    return () -> new ByteArrayInputStream(data, (int) offset, (int) length);
                }
            };
        }

        static Body of(Path file) throws IOException {
            long size = Files.size(file);
            return new Body() {
                @Override
                public long size() {
                    return size;
                }

                @Override
                public ContentStreamProvider range(long offset, long length) {
                    return () -> {
                        try {
                            InputStream in = Files.newInputStream(file);
                            in.skipNBytes(offset);
                            return new Bounded(in, length);
                        } catch (IOException e) {
                            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
                        }
                    };
                }
            };
        }
    }

    /** A 409 on completion: S3 asks for the whole upload again. */
    private static final class Conflict extends RuntimeException {
        Conflict(S3Exception cause) {
            super(cause);
        }
    }

    private static final int CONFLICT_ATTEMPTS = 3;

    private final SdkObjectStore store;
    private final S3Client s3;
    private final String bucket;
    private final Multipart settings;
    private final ExecutorService pool;
    /** Test hook: called with each part's number before it is read and sent (a throw is a failed part). */
    private volatile IntConsumer beforePart = n -> { };

    PartedUpload(SdkObjectStore store, S3Client s3, String bucket, Multipart settings) {
        this.store = store;
        this.s3 = s3;
        this.bucket = bucket;
        this.settings = settings;
        this.pool = Executors.newFixedThreadPool(settings.parallel(),
                r -> Thread.ofPlatform().daemon().name("tidemark-s3-parts").unstarted(r));
    }

    void beforePart(IntConsumer hook) {
        this.beforePart = hook;
    }

    ObjectStore.PutOutcome upload(String key, Body body, Map<String, String> metadata) {
        for (int attempt = 1; ; attempt++) {
            String uploadId = create(key, metadata);
            try {
                List<CompletedPart> parts = parts(key, uploadId, body);
                return complete(key, uploadId, parts);
            } catch (Conflict c) {
                abortAfter(key, uploadId, null);
                if (attempt >= CONFLICT_ATTEMPTS) {
                    throw store.failure("POST (complete multipart upload)", key, (S3Exception) c.getCause());
                }
            } catch (RuntimeException e) {
                throw abortAfter(key, uploadId, e);
            }
        }
    }

    private String create(String key, Map<String, String> metadata) {
        try {
            return store.withFreshKeys(() -> s3.createMultipartUpload(r -> r.bucket(bucket).key(key).metadata(metadata)
                    .contentType("application/octet-stream").checksumAlgorithm(ChecksumAlgorithm.CRC32_C))).uploadId();
        } catch (S3Exception e) {
            throw store.failure("POST (create multipart upload)", key, e);
        } catch (SdkClientException e) {
            throw SdkObjectStore.clientFailure("POST (create multipart upload)", key, e);
        }
    }

    /** Every part, {@code parallel} at a time; on a failure the parts not yet started are skipped and those in flight awaited. */
    private List<CompletedPart> parts(String key, String uploadId, Body body) {
        long size = body.size();
        long partSize = settings.partSizeFor(size);
        int count = (int) Math.max(1, (size + partSize - 1) / partSize);
        AtomicBoolean failed = new AtomicBoolean();
        List<Future<CompletedPart>> futures = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            int number = i + 1;
            long offset = i * partSize;
            long length = Math.min(partSize, size - offset);
            futures.add(pool.submit(() -> {
                if (failed.get()) {
                    return null;
                }
                try {
                    return part(key, uploadId, number, offset, length, body);
                } catch (RuntimeException e) {
                    failed.set(true);
                    throw e;
                }
            }));
        }
        List<CompletedPart> done = new ArrayList<>(count);
        RuntimeException first = null;
        boolean interrupted = false;
        for (Future<CompletedPart> f : futures) {
            while (true) {
                try {
                    CompletedPart p = f.get();
                    if (p != null) {
                        done.add(p);
                    }
                    break;
                } catch (InterruptedException e) {
                    // abort only once nothing is in flight: wait on, then say we were interrupted
                    interrupted = true;
                    failed.set(true);
                } catch (ExecutionException e) {
                    if (first == null) {
                        first = e.getCause() instanceof RuntimeException r ? r
                                : new StorageException("S3 PUT part of " + key + " failed: " + e.getCause(), e.getCause(), true);
                    }
                    break;
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
            throw new StorageException("S3 multipart upload of " + key + " interrupted", null, false);
        }
        if (first != null) {
            throw first;
        }
        return done;
    }

    private CompletedPart part(String key, String uploadId, int number, long offset, long length, Body body) {
        beforePart.accept(number);
        String crc = crc32c(body.range(offset, length));
        String what = "PUT part " + number;
        try {
            UploadPartResponse r = store.withFreshKeys(() -> s3.uploadPart(b -> b.bucket(bucket).key(key).uploadId(uploadId)
                            .partNumber(number).contentLength(length).checksumAlgorithm(ChecksumAlgorithm.CRC32_C)
                            .checksumCRC32C(crc),
                    RequestBody.fromContentProvider(body.range(offset, length), length, "application/octet-stream")));
            return CompletedPart.builder().partNumber(number).eTag(r.eTag()).checksumCRC32C(crc).build();
        } catch (S3Exception e) {
            throw store.failure(what + " of", key, e);
        } catch (SdkClientException e) {
            throw SdkObjectStore.clientFailure(what + " of", key, e);
        }
    }

    /** CREATED; ALREADY_EXISTS on 412 (the upload then aborted), as a conditional PUT answers. */
    private ObjectStore.PutOutcome complete(String key, String uploadId, List<CompletedPart> parts) {
        try {
            store.withFreshKeys(() -> s3.completeMultipartUpload(r -> r.bucket(bucket).key(key).uploadId(uploadId)
                    .ifNoneMatch("*").multipartUpload(m -> m.parts(parts))));
            return ObjectStore.PutOutcome.CREATED;
        } catch (S3Exception e) {
            if (e.statusCode() == 412) {
                abortAfter(key, uploadId, null);
                return ObjectStore.PutOutcome.ALREADY_EXISTS;
            }
            if (e.statusCode() == 409) {
                throw new Conflict(e);
            }
            if (e.statusCode() == 501) {
                throw new StorageException("S3 at this endpoint cannot complete a multipart upload create-only"
                        + " (If-None-Match: *), which " + key + " needs: it is larger than s3.multipart-threshold ("
                        + settings.threshold() + " bytes); HTTP 501" + (e.awsErrorDetails() == null ? ""
                        : ": " + e.awsErrorDetails().errorMessage()), e, false);
            }
            throw store.failure("POST (complete multipart upload)", key, e);
        } catch (SdkClientException e) {
            throw SdkObjectStore.clientFailure("POST (complete multipart upload)", key, e);
        }
    }

    /**
     * Aborts the upload (no part of it is in flight: {@link #parts} waited). Returns the failure
     * to throw: {@code cause} with what the abort did, or null when there is no cause.
     */
    private StorageException abortAfter(String key, String uploadId, RuntimeException cause) {
        String what;
        try {
            store.withFreshKeys(() -> s3.abortMultipartUpload(r -> r.bucket(bucket).key(key).uploadId(uploadId)));
            what = "the multipart upload was aborted, no part is left";
        } catch (S3Exception e) {
            what = e.statusCode() == 404 ? "the multipart upload is gone" : "aborting the multipart upload " + uploadId
                    + " failed too (HTTP " + e.statusCode() + "): its parts stay until the bucket's lifecycle rule removes them";
        } catch (SdkClientException e) {
            what = "aborting the multipart upload " + uploadId + " failed too (" + e.getMessage()
                    + "): its parts stay until the bucket's lifecycle rule removes them";
        }
        if (cause == null) {
            return null;
        }
        boolean retryable = cause instanceof StorageException s && s.retryable();
        return new StorageException(cause.getMessage() + " (" + what + ")", cause, retryable);
    }

    private static String crc32c(ContentStreamProvider range) {
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        try (InputStream in = range.newStream()) {
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) {
                crc.update(buf, 0, n);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e.getMessage(), e);
        }
        return SdkObjectStore.crc32cText(crc.getValue());
    }

    @Override
    public void close() {
        pool.shutdownNow();
    }

    /** At most {@code remaining} bytes of {@code in}. */
    private static final class Bounded extends FilterInputStream {
        private long remaining;

        Bounded(InputStream in, long remaining) {
            super(in);
            this.remaining = remaining;
        }

        @Override
        public int read() throws IOException {
            if (remaining <= 0) {
                return -1;
            }
            int b = super.read();
            if (b >= 0) {
                remaining--;
            }
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (remaining <= 0) {
                return -1;
            }
            int n = super.read(b, off, (int) Math.min(len, remaining));
            if (n > 0) {
                remaining -= n;
            }
            return n;
        }

        @Override
        public long skip(long n) throws IOException {
            long s = super.skip(Math.min(n, remaining));
            remaining -= s;
            return s;
        }

        @Override
        public int available() throws IOException {
            return (int) Math.min(super.available(), remaining);
        }

        @Override
        public boolean markSupported() {
            return false;
        }
    }
}
