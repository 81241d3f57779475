package io.tidemark.events.json;

import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.json.JsonMapper;

/**
 * The one place Jackson is configured: every module takes its mapper from here instead of
 * building its own. Each is shared and must not be reconfigured (a mapper is thread-safe only as
 * long as nobody changes it); a caller that needs another setting adds a named one here.
 *
 * <ul>
 *   <li>{@link #mapper()}: Jackson's defaults (unknown properties fail a typed read, trees accept
 *       anything). For documents Tidemark writes and reads itself.</li>
 *   <li>{@link #strict()}: refuses duplicate keys and anything after the document. For request
 *       bodies whose fields decide something (a stanza's identity).</li>
 *   <li>{@link #lenient()}: ignores unknown properties. For AWS event shapes, to which AWS adds
 *       fields at will.</li>
 *   <li>{@link #canonical()}: what {@link CanonicalJson} parses and serializes signed documents
 *       with: strict, duplicate tree keys refused, floats as {@code BigDecimal} (no binary
 *       rounding of a signed number).</li>
 * </ul>
 */
public final class Json {

    // Each configuration in a holder of its own: a short-lived command (archive-get, a JVM per
    // call) builds only the mapper it uses, not all four.
    private static final class Default {
        static final ObjectMapper MAPPER = JsonMapper.builder().build();
        static final ObjectWriter PRETTY = MAPPER.writerWithDefaultPrettyPrinter();
    }

    private static final class Strict {
        static final ObjectMapper MAPPER = JsonMapper.builder()
                .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                .build();
    }

    private static final class Lenient {
        static final ObjectMapper MAPPER = JsonMapper.builder()
                .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .build();
    }

    private static final class Canonical {
        static final ObjectMapper MAPPER = JsonMapper.builder()
                .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY)
                .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
                .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                .build();
    }

    private Json() {
    }

    /** Jackson's defaults. */
    public static ObjectMapper mapper() {
        return Default.MAPPER;
    }

    /** Duplicate keys and trailing tokens refused. */
    public static ObjectMapper strict() {
        return Strict.MAPPER;
    }

    /** Unknown properties ignored (AWS event shapes). */
    public static ObjectMapper lenient() {
        return Lenient.MAPPER;
    }

    /** The configuration behind {@link CanonicalJson}; use CanonicalJson for signed documents. */
    static ObjectMapper canonical() {
        return Canonical.MAPPER;
    }

    /** The defaults, indented (output meant for people: {@code --output json}, config files). */
    public static ObjectWriter pretty() {
        return Default.PRETTY;
    }
}
