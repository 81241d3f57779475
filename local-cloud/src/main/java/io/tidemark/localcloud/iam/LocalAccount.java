package io.tidemark.localcloud.iam;

/**
 * Where local-cloud deploys the stack: the region, and the local names of what the template
 * leaves to CloudFormation (the archive bucket, the catalog table, the REST API's id). The account
 * is always {@value #ACCOUNT} in partition {@value #PARTITION}.
 */
public record LocalAccount(String region, String bucket, String table, String apiId) {

    public static final String ACCOUNT = "000000000000";
    public static final String PARTITION = "aws";

    public LocalAccount {
        for (String[] f : new String[][] {{"region", region}, {"bucket", bucket}, {"table", table}, {"apiId", apiId}}) {
            if (f[1] == null || f[1].isBlank()) {
                throw new IllegalArgumentException("LocalAccount." + f[0] + " must not be blank");
            }
        }
    }
}
