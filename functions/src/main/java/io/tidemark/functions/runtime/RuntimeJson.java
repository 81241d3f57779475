package io.tidemark.functions.runtime;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.tidemark.events.json.Json;

/** The Jackson mapper for AWS event shapes: lenient on input (AWS adds fields), plain on output. */
final class RuntimeJson {

    static final ObjectMapper MAPPER = Json.lenient();

    private RuntimeJson() {
    }
}
