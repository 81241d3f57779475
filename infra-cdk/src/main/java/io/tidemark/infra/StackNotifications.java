package io.tidemark.infra;

import java.util.List;
import software.amazon.awscdk.services.s3.Bucket;
import software.amazon.awscdk.services.s3.EventType;
import software.amazon.awscdk.services.s3.NotificationKeyFilter;
import software.amazon.awscdk.services.s3.notifications.LambdaDestination;

/**
 * The bucket's event notifications, per stanza: new WAL and streamed WAL chunks to the indexer, a backup's manifest to the
 * validator, every removal or expiration to the indexer (each to the function's alias).
 */
final class StackNotifications {
    private StackNotifications() {
    }

    static void add(Bucket bucket, List<String> stanzas, StackFunctions fns) {
        for (String stanza : stanzas) {
            bucket.addEventNotification(EventType.OBJECT_CREATED, new LambdaDestination(fns.indexer().alias()),
                    NotificationKeyFilter.builder().prefix(stanza + "/wal/").build());
            // Streamed WAL chunks (issue 17): each moves the window's right edge.
            bucket.addEventNotification(EventType.OBJECT_CREATED, new LambdaDestination(fns.indexer().alias()),
                    NotificationKeyFilter.builder().prefix(stanza + "/stream/").build());
            bucket.addEventNotification(EventType.OBJECT_CREATED, new LambdaDestination(fns.validator().alias()),
                    NotificationKeyFilter.builder().prefix(stanza + "/backup/").suffix("/manifest.json").build());
            // Removals of any object of the stanza (WAL, history, backup files): the indexer marks
            // what is gone as missing, so the window and the planner stop offering it. Retention's own
            // deletes arrive here too and are recognised as such.
            for (EventType removal : List.of(EventType.OBJECT_REMOVED, EventType.LIFECYCLE_EXPIRATION)) {
                bucket.addEventNotification(removal, new LambdaDestination(fns.indexer().alias()),
                        NotificationKeyFilter.builder().prefix(stanza + "/").build());
            }
        }
    }
}
