/**
 * The CDK app that deploys Tidemark's cloud side: {@link io.tidemark.infra.TidemarkApp} (entry
 * point, run by {@code cdk synth}/{@code cdk deploy} through {@code cdk.json}),
 * {@link io.tidemark.infra.TidemarkStack} (everything), {@link io.tidemark.infra.TidemarkConfig}
 * (CDK context) and {@link io.tidemark.infra.NagSuppressionsForTidemark} (the cdk-nag
 * suppressions, each with its reason).
 */
package io.tidemark.infra;
