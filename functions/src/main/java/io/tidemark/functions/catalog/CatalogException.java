package io.tidemark.functions.catalog;

/** A request the catalog refuses; {@link #kind()} says how an API answers it. */
public class CatalogException extends RuntimeException {

    public enum Kind { BAD_REQUEST, CONFLICT, NOT_FOUND, GONE, FORBIDDEN }

    private final Kind kind;

    public CatalogException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }

    public static CatalogException badRequest(String message) {
        return new CatalogException(Kind.BAD_REQUEST, message);
    }
}
