import type { CloudWatchLogsClient, CloudWatchLogsClientConfig } from '@aws-sdk/client-cloudwatch-logs';
import { sdk } from './sdk.js';

/**
 * Builds a `CloudWatchLogsClient` for cwbatch: the given configuration, with `maxAttempts: 1`
 * unless it sets `maxAttempts` or its own `retryStrategy`, because the buffer (`BatchBufferImpl`)
 * owns retries and the SDK's own retries would multiply them (rules document, "SDK retry interplay").
 *
 * Where the client sends its requests: `endpoint` when given (e.g. `http://127.0.0.1:4566` for
 * the embedded endpoint, moto or LocalStack); otherwise the SDK itself reads
 * `AWS_ENDPOINT_URL_CLOUDWATCH_LOGS`, then `AWS_ENDPOINT_URL`, then `endpoint_url` from the
 * shared config file (all ignored when `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true`); otherwise the
 * Region's AWS endpoint. cwbatch adds nothing to that resolution.
 *
 * @param clientConfig - Plain client configuration (region, credentials, endpoint, ...). Default `{}`.
 */
export function createCloudWatchLogsClient(clientConfig: CloudWatchLogsClientConfig = {}): CloudWatchLogsClient {
  return new sdk.CloudWatchLogsClient(withSingleAttempt(clientConfig));
}

/** `clientConfig` with `maxAttempts: 1` added when it configures no retries of its own. */
export function withSingleAttempt(clientConfig: CloudWatchLogsClientConfig): CloudWatchLogsClientConfig {
  if (clientConfig.maxAttempts !== undefined || clientConfig.retryStrategy !== undefined) return clientConfig;
  return { ...clientConfig, maxAttempts: 1 };
}
