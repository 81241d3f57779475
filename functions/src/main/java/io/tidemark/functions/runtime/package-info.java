/**
 * What every Tidemark Lambda function shares: its configuration ({@link io.tidemark.functions.runtime.FunctionConfig}),
 * its AWS clients ({@link io.tidemark.functions.runtime.AwsClients}) and the event shapes it reads and writes
 * ({@link io.tidemark.functions.runtime.S3EventNotification}, {@link io.tidemark.functions.runtime.ApiGatewayProxy}).
 *
 * <p>Handlers implement {@code com.amazonaws.services.lambda.runtime.RequestStreamHandler} and parse the
 * event JSON with these types, so local-cloud can invoke the very same handlers with the same JSON.
 */
package io.tidemark.functions.runtime;
