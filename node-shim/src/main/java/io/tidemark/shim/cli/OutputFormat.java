package io.tidemark.shim.cli;

/** {@code --output text|json}: text for people, JSON for scripts and tests. */
public enum OutputFormat {
    TEXT, JSON;

    public static OutputFormat parse(String value) {
        return switch (value) {
            case "text" -> TEXT;
            case "json" -> JSON;
            default -> throw new UsageException("--output must be text or json, got '" + value + "'");
        };
    }
}
