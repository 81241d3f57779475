package io.tidemark.events.backup;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/**
 * The digest of a file stored block by block (manifest format {@link BackupManifest#BLOCK_DIGEST_FORMAT_VERSION}):
 * SHA-256 over a fixed prefix, the file's size, its block size and the SHA-256 of each block in
 * order. It stands in the manifest's {@code sha256} of such a file instead of the SHA-256 of the
 * whole content, so each byte is hashed once (for its block) on backup and on restore, not twice.
 *
 * <p>Why it proves as much as the whole-file SHA-256: the prefix, size and block size fix how
 * many block digests follow and how long each block is, so two different files with the same
 * digest would need either two different lists of block digests with one SHA-256 (a collision of
 * the outer hash) or a block whose content differs under the same SHA-256 (a collision of a block
 * hash). A restore that checks every block against its map's SHA-256 and the map against this
 * digest has therefore checked the whole file, as the whole-file SHA-256 did.
 *
 * <p>Older manifests (format 2) hold the whole content's SHA-256 for the same files, and a newer
 * backup may reference such a file unchanged. Readers tell the two apart by value ({@link #matches}):
 * a whole-content SHA-256 equal to this digest would be a SHA-256 collision.
 */
public final class BlockDigest {
    private static final byte[] PREFIX = "tidemark block digest 1\n".getBytes(StandardCharsets.US_ASCII);

    private BlockDigest() {
    }

    /** The digest of a file of {@code size} bytes cut into {@code blockSize} blocks with these SHA-256s (hex). */
    public static String of(long size, int blockSize, List<String> blockSha256) {
        MessageDigest d = sha256();
        d.update(PREFIX);
        d.update(ByteBuffer.allocate(12).putLong(size).putInt(blockSize).array());
        HexFormat hex = HexFormat.of();
        for (String b : blockSha256) {
            d.update(hex.parseHex(b));
        }
        return hex.formatHex(d.digest());
    }

    /** The digest of {@code map} for a file of {@code size} bytes. */
    public static String of(long size, BlockMap map) {
        return of(size, map.blockSize(), map.blocks().stream().map(BlockMap.Block::sha256).toList());
    }

    /**
     * Whether {@code fileSha256} is the block digest of these blocks (else it is, in an older
     * manifest, the SHA-256 of the whole content); the block count must fit the size.
     */
    public static boolean matches(String fileSha256, long size, int blockSize, List<String> blockSha256) {
        return blockSize > 0 && BlockMap.blockCount(size, blockSize) == blockSha256.size()
                && of(size, blockSize, blockSha256).equals(fileSha256);
    }

    /**
     * The block digest of the file at {@code path} as it is now (one SHA-256 pass; a link is not
     * followed): for a
     * {@code --delta} restore or a checksum-delta backup comparing a file in place with a manifest.
     */
    public static String ofFile(Path path, int blockSize) throws IOException {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            MessageDigest block = sha256();
            HexFormat hex = HexFormat.of();
            List<String> shas = new java.util.ArrayList<>();
            ByteBuffer buf = ByteBuffer.allocate(Math.min(blockSize, 1 << 20));
            long size = 0;
            long inBlock = 0;
            while (true) {
                buf.clear();
                buf.limit((int) Math.min(buf.capacity(), blockSize - inBlock));
                int n = ch.read(buf);
                if (n < 0) {
                    break;
                }
                block.update(buf.array(), 0, n);
                size += n;
                inBlock += n;
                if (inBlock == blockSize) {
                    shas.add(hex.formatHex(block.digest()));
                    inBlock = 0;
                }
            }
            if (inBlock > 0) {
                shas.add(hex.formatHex(block.digest()));
            }
            return of(size, blockSize, shas);
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
