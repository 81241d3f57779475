package io.tidemark.shim.archivepush;

import io.tidemark.events.layout.Compression;
import io.tidemark.shim.storage.Codec;
import io.tidemark.shim.storage.CreateOnly;
import java.util.concurrent.Future;

/**
 * A WAL file's stored form (compressed body) and the SHA-256 of its raw bytes, computed on two
 * threads started at once. On a cold JVM these are the two dearest steps of archive-push;
 * {@link WalPusher} starts them while the file is still being read, so that the output buffer
 * is allocated meanwhile and the checks and the stanza document are done while they run instead
 * of before them.
 */
final class EncodedSegment {
    private final Compression compression;
    private final Future<byte[]> body;
    private final Future<String> sha256;

    private EncodedSegment(Compression compression, Future<byte[]> body, Future<String> sha256) {
        this.compression = compression;
        this.body = body;
        this.sha256 = sha256;
    }

    /** Starts compressing and hashing {@code raw}. */
    static EncodedSegment start(Compression compression, int level, byte[] raw) {
        return start(compression, level, raw.length, Background.done(raw));
    }

    /** Starts compressing and hashing the {@code rawSize} bytes that {@code raw} is reading. */
    static EncodedSegment start(Compression compression, int level, int rawSize, Future<byte[]> raw) {
        Future<String> sha = Background.start("tidemark-sha256",
                () -> CreateOnly.sha256(Background.await(raw, "reading")));
        Future<byte[]> body = Background.start("tidemark-compress", () -> {
            byte[] buffer = Codec.outputBuffer(compression, rawSize); // while the file is still being read
            return Codec.compress(compression, level, Background.await(raw, "reading"), buffer);
        });
        return new EncodedSegment(compression, body, sha);
    }

    Compression compression() {
        return compression;
    }

    byte[] body() {
        return Background.await(body, "compression");
    }

    String sha256() {
        return Background.await(sha256, "SHA-256");
    }
}
