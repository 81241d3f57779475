package io.tidemark.functions.retain;

import io.tidemark.events.layout.StanzaName;

/**
 * Starts a retention run for a stanza without waiting for it: the validator calls it when a
 * backup became valid. In AWS an asynchronous invoke of the retention function's alias
 * ({@code aws.LambdaRetentionTrigger}); in local-cloud the handler in-process on another thread.
 * A trigger that fails is logged and forgotten: the daily schedule runs retention anyway.
 */
@FunctionalInterface
public interface RetentionTrigger {

    void backupValid(StanzaName stanza, String label);

    RetentionTrigger NONE = (stanza, label) -> {
    };

    /** The event the retention function gets: the stanza, its default policy. */
    static byte[] event(StanzaName stanza) {
        return ("{\"stanza\":\"" + stanza.value() + "\"}").getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }
}
