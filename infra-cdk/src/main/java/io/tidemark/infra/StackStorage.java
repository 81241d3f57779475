package io.tidemark.infra;

import java.util.List;
import software.amazon.awscdk.Duration;
import software.amazon.awscdk.RemovalPolicy;
import software.amazon.awscdk.Stack;
import software.amazon.awscdk.services.dynamodb.Attribute;
import software.amazon.awscdk.services.dynamodb.AttributeType;
import software.amazon.awscdk.services.dynamodb.BillingMode;
import software.amazon.awscdk.services.dynamodb.PointInTimeRecoverySpecification;
import software.amazon.awscdk.services.dynamodb.Table;
import software.amazon.awscdk.services.dynamodb.TableEncryption;
import software.amazon.awscdk.services.kms.Key;
import software.amazon.awscdk.services.s3.BlockPublicAccess;
import software.amazon.awscdk.services.s3.Bucket;
import software.amazon.awscdk.services.s3.BucketEncryption;
import software.amazon.awscdk.services.s3.LifecycleRule;
import software.amazon.awscdk.services.s3.ObjectLockRetention;
import software.amazon.awscdk.services.s3.ObjectOwnership;

/**
 * What the stack keeps: the archive bucket (versioned, SSE-KMS with the data key, optional Object
 * Lock, its access logs in a bucket of their own) and the catalog table. Both outlive the stack.
 * Created in the stack's own scope (not a child construct), so the logical ids are those the
 * stack always had.
 */
record StackStorage(Bucket bucket, Table table) {

    static StackStorage build(Stack stack, TidemarkConfig config, Key dataKey) {
        Bucket accessLogs = Bucket.Builder.create(stack, "AccessLogBucket")
                // S3 server access log delivery supports SSE-S3 only.
                .encryption(BucketEncryption.S3_MANAGED)
                .blockPublicAccess(BlockPublicAccess.BLOCK_ALL)
                .enforceSsl(true)
                .objectOwnership(ObjectOwnership.BUCKET_OWNER_ENFORCED)
                .lifecycleRules(List.of(LifecycleRule.builder()
                        .id("expire-access-logs")
                        .expiration(Duration.days(90))
                        .abortIncompleteMultipartUploadAfter(Duration.days(1))
                        .build()))
                .removalPolicy(RemovalPolicy.RETAIN)
                .build();

        Bucket.Builder bucketBuilder = Bucket.Builder.create(stack, "ArchiveBucket")
                .encryption(BucketEncryption.KMS)
                .encryptionKey(dataKey)
                .bucketKeyEnabled(true)
                .blockPublicAccess(BlockPublicAccess.BLOCK_ALL)
                .enforceSsl(true)
                .minimumTlsVersion(1.2)
                .versioned(true)
                .objectOwnership(ObjectOwnership.BUCKET_OWNER_ENFORCED)
                .serverAccessLogsBucket(accessLogs)
                .serverAccessLogsPrefix("archive/")
                .lifecycleRules(List.of(
                        LifecycleRule.builder()
                                .id("abort-incomplete-multipart-uploads")
                                .abortIncompleteMultipartUploadAfter(
                                        Duration.days(config.abortIncompleteMultipartDays()))
                                .build(),
                        LifecycleRule.builder()
                                // Retention deletes leave a noncurrent version behind (versioning);
                                // this is what actually frees the storage, after a grace period.
                                .id("expire-noncurrent-versions")
                                .noncurrentVersionExpiration(Duration.days(config.noncurrentVersionDays()))
                                .expiredObjectDeleteMarker(true)
                                .build()))
                // Backups outlive the stack: deleting the stack never deletes the archive.
                .removalPolicy(RemovalPolicy.RETAIN);
        config.objectLock().ifPresent(lock -> bucketBuilder
                .objectLockEnabled(true)
                .objectLockDefaultRetention(lock.mode().equals("COMPLIANCE")
                        ? ObjectLockRetention.compliance(Duration.days(lock.days()))
                        : ObjectLockRetention.governance(Duration.days(lock.days()))));
        Bucket bucket = bucketBuilder.build();

        Table table = Table.Builder.create(stack, "CatalogTable")
                .partitionKey(Attribute.builder().name("PK").type(AttributeType.STRING).build())
                .sortKey(Attribute.builder().name("SK").type(AttributeType.STRING).build())
                .billingMode(BillingMode.PAY_PER_REQUEST)
                .pointInTimeRecoverySpecification(PointInTimeRecoverySpecification.builder()
                        .pointInTimeRecoveryEnabled(true)
                        .build())
                .timeToLiveAttribute(TidemarkStack.TTL_ATTRIBUTE)
                .encryption(TableEncryption.AWS_MANAGED)
                .deletionProtection(true)
                .removalPolicy(RemovalPolicy.RETAIN)
                .build();
        return new StackStorage(bucket, table);
    }
}
