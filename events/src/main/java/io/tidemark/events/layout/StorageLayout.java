package io.tidemark.events.layout;

import io.tidemark.events.paths.SafeRelativePath;
import io.tidemark.events.wal.TimelineId;
import io.tidemark.events.wal.WalFileName;
import io.tidemark.events.wal.WalNames;
import io.tidemark.events.wal.WalSegmentName;
import io.tidemark.events.wal.WalSegmentSize;
import java.util.Arrays;
import java.util.Objects;
import java.util.function.Function;

/**
 * The one place that knows every S3 key Tidemark writes or reads. Nothing else concatenates keys.
 *
 * <h2>Layout</h2>
 * <pre>
 * &lt;stanza&gt;/stanza.json                                      system id, PostgreSQL version, WAL segment size
 * &lt;stanza&gt;/wal/&lt;TTTTTTTT&gt;.history                            timeline history, uncompressed (tiny, read by people)
 * &lt;stanza&gt;/wal/&lt;TTTTTTTTLLLLLLLL&gt;/&lt;wal file&gt;.&lt;ext&gt;           segment, .partial or .backup file
 * &lt;stanza&gt;/stream/&lt;TTTTTTTTLLLLLLLL&gt;/&lt;segment&gt;/&lt;SSSSSSSS&gt;-&lt;EEEEEEEE&gt;.&lt;ext&gt;
 *                                                            a streamed chunk: bytes [S, E) of the segment
 * &lt;stanza&gt;/backup/&lt;label&gt;/manifest.json                      written last: its arrival triggers validation
 * &lt;stanza&gt;/backup/&lt;label&gt;/data/&lt;relative path&gt;.&lt;ext&gt;        one backed-up file
 * &lt;stanza&gt;/backup/&lt;label&gt;/bundle/&lt;n&gt;.&lt;ext&gt;                 many small files in one object (n decimal, no leading zeros)
 * </pre>
 * Example: {@code main/wal/0000000100000000/000000010000000000000003.zst},
 * {@code main/wal/00000002.history}, {@code main/backup/20240102-030405F/data/base/1/1259.zst},
 * {@code main/stream/0000000100000000/000000010000000000000003/00000000-0001A000.zst}.
 *
 * <ul>
 *   <li>{@code <stanza>} is a {@link StanzaName}; {@code <label>} a {@link BackupLabelName}.</li>
 *   <li>{@code <ext>} is the {@link Compression} extension, always present ({@code raw} for none), so
 *       the last extension of a WAL or data key is never part of the PostgreSQL file name.</li>
 *   <li>WAL is grouped by timeline and log id ({@link WalSegmentName#timelineAndLog()}): at most
 *       4096 objects per folder with 1 MB segments, and listing one timeline is one prefix
 *       ({@link #timelineWalPrefix}, which also matches that timeline's history file).</li>
 *   <li>Keys use only {@code [0-9A-Za-z/_.-]}, no component is empty, {@code .} or {@code ..}, and a
 *       key is at most 1024 characters (S3's limit). A data file whose path falls outside that
 *       alphabet or length ({@link #isKeySafe}) goes into a bundle; the manifest names it.</li>
 *   <li>The same WAL file may in principle exist under two extensions; identity is
 *       (stanza, WAL file name), and consumers compare content checksums, not keys.</li>
 * </ul>
 *
 * <h2>Parsing and the segment size</h2>
 * A WAL file name's meaning depends on the cluster's segment size (the last 8 digits must be
 * below 2^32 / size), so a key can only be proven valid knowing it. {@link #parse(String, Function)}
 * takes a resolver from stanza to segment size and calls it only for WAL objects (never for
 * history files, manifests or stanza.json), after the key's syntax and stanza are checked; a
 * handler passes its catalog lookup. {@link #stanzaOf} returns the stanza of a well-formed key
 * without classifying it. Keys arrive URL-decoded from S3 events; this class validates them as
 * untrusted input and throws {@link StorageKeyException} with the reason.
 */
public final class StorageLayout {

    /** S3's maximum key length (bytes; our keys are ASCII). */
    public static final int MAX_KEY_LENGTH = 1024;

    static final String STANZA_JSON = "stanza.json";
    static final String WAL = "wal";
    static final String STREAM = "stream";
    static final String BACKUP = "backup";
    static final String MANIFEST_JSON = "manifest.json";
    static final String DATA = "data";
    static final String BUNDLE = "bundle";
    static final String HISTORY_SUFFIX = ".history";

    private StorageLayout() {
    }

    // ---- builders -------------------------------------------------------------------------

    /** {@code <stanza>/stanza.json} */
    public static String stanzaKey(StanzaName stanza) {
        return stanza + "/" + STANZA_JSON;
    }

    /**
     * {@code <stanza>/wal/<TTTTTTTTLLLLLLLL>/<name>.<ext>}. A {@link WalFileName.History} goes to
     * {@link #historyKey} and must be {@link Compression#NONE}; use {@link #compressionFor} to pick.
     */
    public static String walKey(StanzaName stanza, WalFileName name, Compression compression) {
        Objects.requireNonNull(compression, "compression");
        if (name instanceof WalFileName.History h) {
            if (compression != Compression.NONE) {
                throw new IllegalArgumentException("history file " + h.fileName()
                        + " is stored uncompressed, asked for " + compression);
            }
            return historyKey(stanza, h.timeline());
        }
        return walDirectoryPrefix(stanza, segmentOf(name)) + name.fileName() + "." + compression.extension();
    }

    /** The compression to store {@code name} with: {@code preferred}, except NONE for history files. */
    public static Compression compressionFor(WalFileName name, Compression preferred) {
        return name instanceof WalFileName.History ? Compression.NONE : preferred;
    }

    /**
     * {@code <stanza>/stream/<TTTTTTTTLLLLLLLL>/<segment>/<SSSSSSSS>-<EEEEEEEE>.<ext>}: bytes
     * {@code [start, end)} of {@code segment} as the agent received them over streaming replication
     * (offsets within the segment, eight upper-case hex digits; see {@link StorageKey.WalChunk}).
     */
    public static String walChunkKey(StanzaName stanza, WalSegmentName segment, long start, long end,
                                     Compression compression) {
        Objects.requireNonNull(compression, "compression");
        StorageKey.WalChunk.requireRange(segment, start, end);
        return walChunkPrefix(stanza, segment) + WalNames.hex8(start) + "-" + WalNames.hex8(end) + "." + compression.extension();
    }

    /** {@code <stanza>/wal/<TTTTTTTT>.history} */
    public static String historyKey(StanzaName stanza, TimelineId timeline) {
        return walPrefix(stanza) + new WalFileName.History(timeline).fileName();
    }

    /** {@code <stanza>/backup/<label>/manifest.json} */
    public static String manifestKey(StanzaName stanza, BackupLabelName label) {
        return backupPrefix(stanza, label) + MANIFEST_JSON;
    }

    /** {@code <stanza>/backup/<label>/data/<path>.<ext>}; refuses paths that are not {@link #isKeySafe}. */
    public static String backupFileKey(StanzaName stanza, BackupLabelName label, SafeRelativePath path,
                                       Compression compression) {
        requireKeySafe(path);
        String key = backupPrefix(stanza, label) + DATA + "/" + path.path() + "." + compression.extension();
        if (key.length() > MAX_KEY_LENGTH) {
            throw new IllegalArgumentException("key for '" + path + "' would be longer than " + MAX_KEY_LENGTH
                    + " characters: store the file in a bundle");
        }
        return key;
    }

    /** {@code <stanza>/backup/<label>/bundle/<n>.<ext>} */
    public static String bundleKey(StanzaName stanza, BackupLabelName label, long index, Compression compression) {
        if (index < 0) {
            throw new IllegalArgumentException("bundle index must not be negative: " + index);
        }
        return backupPrefix(stanza, label) + BUNDLE + "/" + index + "." + compression.extension();
    }

    // ---- prefixes for listing ---------------------------------------------------------------

    /** {@code <stanza>/}: everything of a stanza. */
    public static String stanzaPrefix(StanzaName stanza) {
        return stanza + "/";
    }

    /** {@code <stanza>/wal/}: all WAL and history files. */
    public static String walPrefix(StanzaName stanza) {
        return stanzaPrefix(stanza) + WAL + "/";
    }

    /** {@code <stanza>/wal/<TTTTTTTT>}: one timeline's WAL folders and also its {@code .history} file. */
    public static String timelineWalPrefix(StanzaName stanza, TimelineId timeline) {
        return walPrefix(stanza) + timeline.hex();
    }

    /** {@code <stanza>/wal/<TTTTTTTTLLLLLLLL>/}: the folder holding {@code segment}. */
    public static String walDirectoryPrefix(StanzaName stanza, WalSegmentName segment) {
        return walPrefix(stanza) + segment.timelineAndLog() + "/";
    }

    /** {@code <stanza>/stream/}: all streamed chunks. */
    public static String streamPrefix(StanzaName stanza) {
        return stanzaPrefix(stanza) + STREAM + "/";
    }

    /** {@code <stanza>/stream/<TTTTTTTTLLLLLLLL>/<segment>/}: the chunks of one segment. */
    public static String walChunkPrefix(StanzaName stanza, WalSegmentName segment) {
        return streamPrefix(stanza) + segment.timelineAndLog() + "/" + segment.toString() + "/";
    }

    /** {@code <stanza>/backup/}: all backups. */
    public static String backupsPrefix(StanzaName stanza) {
        return stanzaPrefix(stanza) + BACKUP + "/";
    }

    /** {@code <stanza>/backup/<label>/}: one backup (the slash keeps a full's prefix off its diffs). */
    public static String backupPrefix(StanzaName stanza, BackupLabelName label) {
        return backupsPrefix(stanza) + label + "/";
    }

    // ---- safety ---------------------------------------------------------------------------------

    /** True when {@code path} can be part of a key: only {@code [0-9A-Za-z/_.-]} characters. */
    public static boolean isKeySafe(SafeRelativePath path) {
        String p = path.path();
        for (int i = 0; i < p.length(); i++) {
            if (!isKeyChar(p.charAt(i))) {
                return false;
            }
        }
        return p.length() <= MAX_KEY_LENGTH - 200;
    }

    static void requireKeySafe(SafeRelativePath path) {
        if (!isKeySafe(path)) {
            throw new IllegalArgumentException("path '" + path + "' cannot be part of an S3 key (only [0-9A-Za-z/_.-],"
                    + " at most " + (MAX_KEY_LENGTH - 200) + " characters): store the file in a bundle");
        }
    }

    static boolean isKeyChar(char c) {
        return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
                || c == '/' || c == '_' || c == '.' || c == '-';
    }

    // ---- parsing --------------------------------------------------------------------------------

    /** {@link #parse(String, Function)} for a bucket whose stanzas all share one segment size. */
    public static StorageKey parse(String key, WalSegmentSize segmentSize) {
        Objects.requireNonNull(segmentSize, "segment size");
        return parse(key, stanza -> segmentSize);
    }

    /** The stanza of a syntactically valid key, without classifying the rest. */
    public static StanzaName stanzaOf(String key) {
        return stanza(key, components(key));
    }

    /**
     * Classifies {@code key} or throws {@link StorageKeyException} saying why it is not one of ours.
     *
     * @param segmentSizeOf the WAL segment size of a stanza; called only for WAL objects
     */
    public static StorageKey parse(String key, Function<StanzaName, WalSegmentSize> segmentSizeOf) {
        String[] c = components(key);
        StanzaName stanza = stanza(key, c);
        if (c.length < 2) {
            throw new StorageKeyException(key, "a stanza name alone is not an object key");
        }
        switch (c[1]) {
            case STANZA_JSON -> {
                expectLength(key, c, 2, "stanza.json is directly under the stanza");
                return new StorageKey.StanzaObject(stanza);
            }
            case WAL -> {
                return parseWal(key, c, stanza, segmentSizeOf);
            }
            case BACKUP -> {
                return parseBackup(key, c, stanza);
            }
            case STREAM -> {
                return parseChunk(key, c, stanza, segmentSizeOf);
            }
            default -> throw new StorageKeyException(key, "unknown folder '" + c[1]
                    + "' under the stanza (expected wal, stream, backup or stanza.json)");
        }
    }

    private static StorageKey parseWal(String key, String[] c, StanzaName stanza,
                                       Function<StanzaName, WalSegmentSize> segmentSizeOf) {
        if (c.length == 3) {
            String f = c[2];
            if (f.length() != 16 || !f.endsWith(HISTORY_SUFFIX)) {
                throw new StorageKeyException(key, "directly under wal/ only TTTTTTTT.history files are stored");
            }
            try {
                return new StorageKey.HistoryObject(stanza, TimelineId.parseHex(f.substring(0, 8)));
            } catch (IllegalArgumentException e) {
                throw new StorageKeyException(key, e.getMessage(), e);
            }
        }
        expectLength(key, c, 4, "WAL keys are wal/<TTTTTTTTLLLLLLLL>/<file>.<ext>");
        String dir = c[2];
        int dot = c[3].lastIndexOf('.');
        if (dot < 0) {
            throw new StorageKeyException(key, "WAL object has no compression extension");
        }
        try {
            Compression compression = Compression.fromExtension(c[3].substring(dot + 1));
            WalSegmentSize size = Objects.requireNonNull(segmentSizeOf.apply(stanza),
                    () -> "no WAL segment size known for stanza " + stanza);
            WalFileName name = WalFileName.parse(c[3].substring(0, dot), size);
            if (name instanceof WalFileName.History) {
                throw new IllegalArgumentException("history files are stored as wal/TTTTTTTT.history");
            }
            String expectedDir = segmentOf(name).timelineAndLog();
            if (!dir.equals(expectedDir)) {
                throw new IllegalArgumentException(name.fileName() + " belongs in folder " + expectedDir + ", not " + dir);
            }
            return new StorageKey.WalObject(stanza, name, compression);
        } catch (IllegalArgumentException e) {
            throw new StorageKeyException(key, e.getMessage(), e);
        }
    }

    private static StorageKey parseChunk(String key, String[] c, StanzaName stanza,
                                         Function<StanzaName, WalSegmentSize> segmentSizeOf) {
        expectLength(key, c, 5, "stream keys are stream/<TTTTTTTTLLLLLLLL>/<segment>/<SSSSSSSS>-<EEEEEEEE>.<ext>");
        String f = c[4];
        int dot = f.indexOf('.');
        if (dot != 17 || f.charAt(8) != '-' || !WalNames.isUpperHex(f, 0, 8) || !WalNames.isUpperHex(f, 9, 17)) {
            throw new StorageKeyException(key, "chunk name must be <SSSSSSSS>-<EEEEEEEE>.<ext> (byte offsets within"
                    + " the segment, eight upper-case hex digits each)");
        }
        try {
            Compression compression = Compression.fromExtension(f.substring(dot + 1));
            WalSegmentSize size = Objects.requireNonNull(segmentSizeOf.apply(stanza),
                    () -> "no WAL segment size known for stanza " + stanza);
            WalSegmentName segment = WalSegmentName.parse(c[3], size);
            if (!c[2].equals(segment.timelineAndLog())) {
                throw new IllegalArgumentException(segment.toString() + " belongs in folder "
                        + segment.timelineAndLog() + ", not " + c[2]);
            }
            return new StorageKey.WalChunk(stanza, segment, Long.parseLong(f.substring(0, 8), 16),
                    Long.parseLong(f.substring(9, 17), 16), compression);
        } catch (IllegalArgumentException e) {
            throw new StorageKeyException(key, e.getMessage(), e);
        }
    }

    private static StorageKey parseBackup(String key, String[] c, StanzaName stanza) {
        if (c.length < 4) {
            throw new StorageKeyException(key, "backup keys are backup/<label>/<object>");
        }
        BackupLabelName label;
        try {
            label = BackupLabelName.parse(c[2]);
        } catch (IllegalArgumentException e) {
            throw new StorageKeyException(key, e.getMessage(), e);
        }
        switch (c[3]) {
            case MANIFEST_JSON -> {
                expectLength(key, c, 4, "manifest.json is directly under the backup");
                return new StorageKey.ManifestObject(stanza, label);
            }
            case DATA -> {
                if (c.length < 5) {
                    throw new StorageKeyException(key, "data/ needs a file path");
                }
                String rest = String.join("/", Arrays.copyOfRange(c, 4, c.length));
                int dot = rest.lastIndexOf('.');
                if (dot < 0 || dot < rest.lastIndexOf('/')) {
                    throw new StorageKeyException(key, "backup file has no compression extension");
                }
                try {
                    Compression compression = Compression.fromExtension(rest.substring(dot + 1));
                    return new StorageKey.BackupFileObject(stanza, label, SafeRelativePath.of(rest.substring(0, dot)),
                            compression);
                } catch (IllegalArgumentException e) {
                    throw new StorageKeyException(key, e.getMessage(), e);
                }
            }
            case BUNDLE -> {
                expectLength(key, c, 5, "bundle keys are bundle/<n>.<ext>");
                String f = c[4];
                int dot = f.indexOf('.');
                String n = dot < 0 ? f : f.substring(0, dot);
                if (dot < 0 || !isCanonicalDecimal(n)) {
                    throw new StorageKeyException(key, "bundle name must be <n>.<ext> with n a decimal number"
                            + " without leading zeros");
                }
                try {
                    return new StorageKey.BundleObject(stanza, label, Long.parseLong(n),
                            Compression.fromExtension(f.substring(dot + 1)));
                } catch (IllegalArgumentException e) {
                    throw new StorageKeyException(key, e.getMessage(), e);
                }
            }
            default -> throw new StorageKeyException(key, "unknown object '" + c[3]
                    + "' in a backup (expected manifest.json, data/ or bundle/)");
        }
    }

    /** Splits a key into components after checking characters, length and components. */
    private static String[] components(String key) {
        if (key == null) {
            throw new StorageKeyException(null, "key is missing");
        }
        if (key.isEmpty()) {
            throw new StorageKeyException(key, "key is empty");
        }
        if (key.length() > MAX_KEY_LENGTH) {
            throw new StorageKeyException(key, "longer than " + MAX_KEY_LENGTH + " characters");
        }
        for (int i = 0; i < key.length(); i++) {
            char ch = key.charAt(i);
            if (!isKeyChar(ch)) {
                throw new StorageKeyException(key, String.format("character U+%04X at index %d is outside [0-9A-Za-z/_.-]",
                        (int) ch, i));
            }
        }
        String[] c = key.split("/", -1);
        for (String part : c) {
            if (part.isEmpty()) {
                throw new StorageKeyException(key, "empty component (leading, trailing or double '/')");
            }
            if (part.equals(".") || part.equals("..")) {
                throw new StorageKeyException(key, "'" + part + "' component");
            }
        }
        return c;
    }

    private static StanzaName stanza(String key, String[] c) {
        try {
            return StanzaName.of(c[0]);
        } catch (IllegalArgumentException e) {
            throw new StorageKeyException(key, e.getMessage(), e);
        }
    }

    private static void expectLength(String key, String[] c, int n, String rule) {
        if (c.length != n) {
            throw new StorageKeyException(key, rule);
        }
    }

    private static boolean isCanonicalDecimal(String s) {
        if (s.isEmpty() || s.length() > 19 || (s.length() > 1 && s.charAt(0) == '0')) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) < '0' || s.charAt(i) > '9') {
                return false;
            }
        }
        return true;
    }

    private static WalSegmentName segmentOf(WalFileName name) {
        // instanceof rather than a pattern switch: a type switch is linked at run time (a class is
        // generated), which archive-push, a JVM started per WAL segment, would pay every time
        if (name instanceof WalFileName.Segment s) {
            return s.segment();
        } else if (name instanceof WalFileName.Partial p) {
            return p.segment();
        } else if (name instanceof WalFileName.BackupHistory b) {
            return b.segment();
        } else if (name instanceof WalFileName.History h) {
            throw new IllegalArgumentException("history files have no segment: " + h.fileName());
        }
        throw new IllegalStateException("unknown kind of WAL file name: " + name);
    }
}
