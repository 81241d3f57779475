package io.tidemark.functions.catalog;

import io.tidemark.events.layout.StanzaName;

/**
 * An object arrived for a stanza that has no catalog entry. Deliberately not an
 * {@link IllegalArgumentException}: the event must fail (and be retried, then recorded as
 * failed), not be dropped as a foreign key.
 */
public final class UnknownStanzaException extends RuntimeException {
    public UnknownStanzaException(StanzaName stanza) {
        super("no stanza '" + stanza + "' in the catalog (run tidemark stanza-create first)");
    }
}
