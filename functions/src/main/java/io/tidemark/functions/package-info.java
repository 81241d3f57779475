/**
 * Tidemark's Lambda functions. Handlers (thin: parse, call one service, answer) live in
 * {@code api} and {@code index}; domain services in {@code catalog} and {@code index}, which use
 * no AWS SDK type; adapters to S3 and DynamoDB in {@code aws}; shared runtime pieces in
 * {@code runtime}.
 */
package io.tidemark.functions;
