package io.tidemark.functions.aws;

import io.tidemark.functions.catalog.CatalogStore;
import io.tidemark.functions.catalog.Item;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.ConditionalCheckFailedException;
import software.amazon.awssdk.services.dynamodb.model.GetItemResponse;
import software.amazon.awssdk.services.dynamodb.model.PutItemRequest;
import software.amazon.awssdk.services.dynamodb.model.QueryRequest;
import software.amazon.awssdk.services.dynamodb.model.QueryResponse;

/**
 * {@link CatalogStore} on the single DynamoDB table ({@code PK}, {@code SK} strings). Strings
 * map to S, longs to N, booleans to BOOL, lists to L, maps to M; reads are consistent; queries
 * page through {@code LastEvaluatedKey}; puts are conditional on the item's absence or its
 * {@code rev}.
 */
public final class DynamoDbCatalogStore implements CatalogStore {

    public static final String PK = "PK";
    public static final String SK = "SK";

    private final DynamoDbClient dynamoDb;
    private final String table;

    public DynamoDbCatalogStore(DynamoDbClient dynamoDb, String table) {
        this.dynamoDb = dynamoDb;
        this.table = table;
    }

    @Override
    public Optional<Item> get(String pk, String sk) {
        GetItemResponse r = dynamoDb.getItem(b -> b.tableName(table).consistentRead(true)
                .key(Map.of(PK, s(pk), SK, s(sk))));
        return r.hasItem() && !r.item().isEmpty() ? Optional.of(fromAttributes(r.item())) : Optional.empty();
    }

    @Override
    public boolean put(Item item, String expectedRevision) {
        Map<String, AttributeValue> attrs = toAttributes(item);
        PutItemRequest.Builder b = PutItemRequest.builder().tableName(table).item(attrs);
        if (expectedRevision == null) {
            b.conditionExpression("attribute_not_exists(#pk)").expressionAttributeNames(Map.of("#pk", PK));
        } else {
            b.conditionExpression("#rev = :rev")
                    .expressionAttributeNames(Map.of("#rev", Item.REV))
                    .expressionAttributeValues(Map.of(":rev", s(expectedRevision)));
        }
        try {
            dynamoDb.putItem(b.build());
            return true;
        } catch (ConditionalCheckFailedException e) {
            return false;
        }
    }

    @Override
    public void delete(String pk, String sk) {
        dynamoDb.deleteItem(b -> b.tableName(table).key(Map.of(PK, s(pk), SK, s(sk))));
    }

    @Override
    public List<Item> query(String pk, String skPrefix) {
        if (skPrefix.isEmpty()) {
            // begins_with refuses an empty string: the whole partition.
            return queryAll(q -> q.keyConditionExpression("#pk = :pk")
                    .expressionAttributeNames(Map.of("#pk", PK))
                    .expressionAttributeValues(Map.of(":pk", s(pk))), Integer.MAX_VALUE);
        }
        return queryAll(q -> q.keyConditionExpression("#pk = :pk AND begins_with(#sk, :prefix)")
                .expressionAttributeNames(Map.of("#pk", PK, "#sk", SK))
                .expressionAttributeValues(Map.of(":pk", s(pk), ":prefix", s(skPrefix))), Integer.MAX_VALUE);
    }

    @Override
    public List<Item> queryBetween(String pk, String fromSk, String toSk) {
        return queryAll(q -> between(q, pk, fromSk, toSk, Map.of("#pk", PK, "#sk", SK)), Integer.MAX_VALUE);
    }

    @Override
    public List<Item> queryBetween(String pk, String fromSk, String toSk, List<String> attributes) {
        Map<String, String> names = new LinkedHashMap<>(Map.of("#pk", PK, "#sk", SK));
        StringBuilder projection = new StringBuilder("#pk, #sk");
        for (int i = 0; i < attributes.size(); i++) {
            names.put("#a" + i, attributes.get(i));
            projection.append(", #a").append(i);
        }
        return queryAll(q -> between(q, pk, fromSk, toSk, names).projectionExpression(projection.toString()),
                Integer.MAX_VALUE);
    }

    @Override
    public List<Item> queryPage(String pk, String fromSk, String toSk, boolean descending, int limit) {
        if (fromSk.compareTo(toSk) > 0 || limit <= 0) {
            return new ArrayList<>();
        }
        return queryAll(q -> between(q, pk, fromSk, toSk, Map.of("#pk", PK, "#sk", SK)).scanIndexForward(!descending),
                limit);
    }

    private static QueryRequest.Builder between(QueryRequest.Builder q, String pk, String fromSk, String toSk,
                                                Map<String, String> names) {
        return q.keyConditionExpression("#pk = :pk AND #sk BETWEEN :from AND :to")
                .expressionAttributeNames(names)
                .expressionAttributeValues(Map.of(":pk", s(pk), ":from", s(fromSk), ":to", s(toSk)));
    }

    /**
     * One consistent Query, shaped by {@code shape}, followed page by page until it ends or
     * {@code limit} items are in (Integer.MAX_VALUE: all of them).
     */
    private List<Item> queryAll(java.util.function.Consumer<QueryRequest.Builder> shape, int limit) {
        List<Item> out = new ArrayList<>();
        Map<String, AttributeValue> start = null;
        do {
            QueryRequest.Builder q = QueryRequest.builder().tableName(table).consistentRead(true);
            shape.accept(q);
            if (limit != Integer.MAX_VALUE) {
                q.limit(limit - out.size());
            }
            if (start != null) {
                q.exclusiveStartKey(start);
            }
            QueryResponse r = dynamoDb.query(q.build());
            r.items().forEach(i -> out.add(fromAttributes(i)));
            start = r.hasLastEvaluatedKey() && !r.lastEvaluatedKey().isEmpty() ? r.lastEvaluatedKey() : null;
        } while (start != null && out.size() < limit);
        return out;
    }

    public static Map<String, AttributeValue> toAttributes(Item item) {
        Map<String, AttributeValue> m = new LinkedHashMap<>();
        m.put(PK, s(item.pk()));
        m.put(SK, s(item.sk()));
        item.attributes().forEach((k, v) -> {
            if (k.equals(PK) || k.equals(SK)) {
                throw new IllegalArgumentException("attribute name " + k + " is the table's key");
            }
            m.put(k, value(v));
        });
        return m;
    }

    static Item fromAttributes(Map<String, AttributeValue> attrs) {
        Map<String, Object> a = new HashMap<>();
        attrs.forEach((k, v) -> {
            if (!k.equals(PK) && !k.equals(SK)) {
                a.put(k, object(v));
            }
        });
        return Item.of(attrs.get(PK).s(), attrs.get(SK).s(), a);
    }

    private static AttributeValue s(String v) {
        return AttributeValue.fromS(v);
    }

    private static AttributeValue value(Object v) {
        return switch (v) {
            case String str -> AttributeValue.fromS(str);
            case Long l -> AttributeValue.fromN(Long.toString(l));
            case Boolean bool -> AttributeValue.fromBool(bool);
            case List<?> list -> {
                List<AttributeValue> l = new ArrayList<>(list.size());
                list.forEach(o -> l.add(value(o)));
                yield AttributeValue.fromL(l);
            }
            case Map<?, ?> map -> {
                Map<String, AttributeValue> mm = new LinkedHashMap<>();
                map.forEach((k, o) -> mm.put((String) k, value(o)));
                yield AttributeValue.fromM(mm);
            }
            default -> throw new IllegalArgumentException("unsupported attribute value " + v.getClass().getName());
        };
    }

    private static Object object(AttributeValue v) {
        return switch (v.type()) {
            case S -> v.s();
            case N -> Long.parseLong(v.n());
            case BOOL -> v.bool();
            case NUL -> null;
            case L -> {
                List<Object> l = new ArrayList<>();
                v.l().forEach(x -> l.add(object(x)));
                yield l;
            }
            case M -> {
                Map<String, Object> m = new LinkedHashMap<>();
                v.m().forEach((k, x) -> m.put(k, object(x)));
                yield m;
            }
            default -> throw new IllegalStateException("attribute type " + v.type() + " is not used by the catalog");
        };
    }
}
