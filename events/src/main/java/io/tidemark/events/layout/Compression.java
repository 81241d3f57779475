package io.tidemark.events.layout;

/**
 * How an object's bytes are compressed in S3, named by the key's last extension. Only names
 * live here: the codecs belong to the node shim and the functions. {@code NONE} is spelled
 * {@code raw} so that every WAL and data key ends in exactly one known extension and the
 * parser never has to guess whether {@code .conf} is part of the file name.
 */
public enum Compression {
    ZSTD("zst"),
    LZ4("lz4"),
    NONE("raw");

    private final String extension;

    Compression(String extension) {
        this.extension = extension;
    }

    /** The key extension, without the dot. */
    public String extension() {
        return extension;
    }

    public static Compression fromExtension(String extension) {
        for (Compression c : values()) {
            if (c.extension.equals(extension)) {
                return c;
            }
        }
        throw new IllegalArgumentException("unknown compression extension '" + extension + "' (expected zst, lz4 or raw)");
    }
}
