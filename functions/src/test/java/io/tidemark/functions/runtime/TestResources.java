package io.tidemark.functions.runtime;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

final class TestResources {
    private TestResources() {
    }

    static byte[] bytes(String name) {
        try (InputStream in = TestResources.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("missing test resource " + name);
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
