/** The real AWS SDK client pointed at a loopback endpoint: the one `makeClient` of the tests. */
import { CloudWatchLogsClient, type CloudWatchLogsClientConfig } from '@aws-sdk/client-cloudwatch-logs';

/** Dummy static credentials (the embedded endpoint and moto accept any). */
export const CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' } as const;

/** The Region every test uses. */
export const REGION = 'us-east-1';

/** Client settings that keep the SDK on `url` with dummy credentials (and the SDK's default retries). */
export function clientConfig(url: string): { endpoint: string; region: string; credentials: { accessKeyId: string; secretAccessKey: string } } {
  return { endpoint: url, region: REGION, credentials: { ...CREDENTIALS } };
}

/**
 * A client of the endpoint at `url` that makes one attempt per call (`maxAttempts: 1`): a test
 * sees each answer as it came. `extra` wins. Destroy it when done (`client.destroy()`).
 */
export function makeClient(url: string, extra: Partial<CloudWatchLogsClientConfig> = {}): CloudWatchLogsClient {
  return new CloudWatchLogsClient({ ...clientConfig(url), maxAttempts: 1, ...extra });
}
