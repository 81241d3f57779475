package io.tidemark.shim.restore;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A checked block is written in slices ({@link BlockFiles#WRITE_SLICE}): every byte lands at its offset. */
@Tag("unit")
class BlockWriteTest {

    @TempDir
    Path dir;

    @Test
    void blocksOfAnyLengthLandWholeAtTheirOffsets() throws IOException {
        int slice = BlockFiles.WRITE_SLICE;
        // shorter than a slice, a slice exactly, a slice and one byte, several slices and a tail
        int[] lengths = {1, slice - 1, slice, slice + 1, 3 * slice + 7};
        Random random = new Random(16);
        byte[] expected = new byte[Arrays.stream(lengths).sum() + 5];
        Path file = dir.resolve("f");
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            // written last block first, as download threads may
            int at = expected.length - 5;
            for (int len : lengths) {
                at -= len;
                byte[] block = new byte[len + 9]; // a scratch buffer larger than the block: only len bytes count
                random.nextBytes(block);
                System.arraycopy(block, 0, expected, at, len);
                BlockFiles.writeAt(ch, block, len, at);
            }
            BlockFiles.writeAt(ch, new byte[5], 5, expected.length - 5);
        }
        assertArrayEquals(expected, Files.readAllBytes(file));
    }
}
