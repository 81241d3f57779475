package io.tidemark.functions.catalog;

import com.github.luben.zstd.Zstd;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Lines of text packed small enough to spread over a few catalog items (an item is at most 400 KB):
 * joined with newlines, zstd, base64, and split into {@link #CHUNK}-character pieces. Used for the
 * object keys of a restore plan and the version ids of a backup's objects.
 */
public final class PackedLines {

    /** Characters of packed text per item: leaves room for the item's other attributes. */
    public static final int CHUNK = 300_000;

    private PackedLines() {
    }

    public static String pack(List<String> lines) {
        byte[] raw = String.join("\n", lines).getBytes(StandardCharsets.UTF_8);
        return java.util.Base64.getEncoder().encodeToString(Zstd.compress(raw, 3));
    }

    public static List<String> unpack(String packed) {
        if (packed.isEmpty()) {
            return List.of();
        }
        byte[] z = java.util.Base64.getDecoder().decode(packed);
        long size = Zstd.getFrameContentSize(z);
        String s = new String(Zstd.decompress(z, (int) size), StandardCharsets.UTF_8);
        return s.isEmpty() ? List.of() : Arrays.asList(s.split("\n"));
    }

    /** {@code packed} in pieces of at most {@link #CHUNK} characters (none for an empty text). */
    public static List<String> chunks(String packed) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < packed.length(); i += CHUNK) {
            out.add(packed.substring(i, Math.min(packed.length(), i + CHUNK)));
        }
        return out;
    }
}
