/**
 * The cloud half of Tidemark on one machine: S3Proxy (filesystem store) for S3, DynamoDB Local
 * for the catalog table, and a local HTTP API in place of API Gateway, all running the real
 * Lambda handlers in-process with real event JSON. Entry points: {@link io.tidemark.localcloud.LocalCloud}
 * (library, tests) and {@link io.tidemark.localcloud.LocalCloudMain} ({@code tidemark local-cloud}).
 */
package io.tidemark.localcloud;
