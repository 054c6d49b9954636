/**
 * The CLI's AWS calls, all through `src/aws` (the only layer that imports the SDK). Loaded
 * lazily so that `--help` and `--dry-run` work without the optional SDK peer dependency.
 */
import type { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { findLogGroup, findLogStream } from '../aws/read.js';
import type { LogGroupCreateOptions } from '../aws/group-options.js';
import { createCloudWatchFlushFunction, type CloudWatchFlushFunction } from '../aws/flush-function.js';
import { createCloudWatchLogsClient } from '../aws/client.js';
import { isResourceNotFound } from '../aws/errors.js';
import { DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_REQUEST_TIMEOUT_MS, type Destination } from './endpoint.js';

/** Where to send requests; `undefined` fields are left to the SDK's usual resolution (env, profile). */
export interface ClientSettings {
  endpoint?: string | undefined;
  region?: string | undefined;
  /** Static credentials; without them the SDK's default provider chain is used. */
  credentials?: { accessKeyId: string; secretAccessKey: string } | undefined;
  /** Bound on connecting, ms. Default {@link DEFAULT_CONNECT_TIMEOUT_MS} (5 s). */
  connectTimeoutMs?: number | undefined;
  /** Bound on one request until its whole answer, ms. Default {@link DEFAULT_REQUEST_TIMEOUT_MS} (30 s). */
  requestTimeoutMs?: number | undefined;
}

/** Fake static credentials for the embedded endpoint (it checks that requests are signed, not by whom). */
export const LOCAL_CREDENTIALS = Object.freeze({ accessKeyId: 'test', secretAccessKey: 'test' });

/**
 * The CLI's one client builder: one HTTP attempt per call (the buffer owns retries), and
 * connection and request timeouts so that an endpoint that accepts a connection and never answers
 * fails the call (a `TimeoutError`) instead of holding the command for ever.
 */
export function buildClient(settings: ClientSettings): CloudWatchLogsClient {
  const config: Record<string, unknown> = {
    requestHandler: {
      connectionTimeout: settings.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
      requestTimeout: settings.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
      throwOnRequestTimeout: true,
    },
  };
  if (settings.endpoint !== undefined) config['endpoint'] = settings.endpoint;
  if (settings.region !== undefined) config['region'] = settings.region;
  if (settings.credentials !== undefined) config['credentials'] = { ...settings.credentials };
  return createCloudWatchLogsClient(config);
}

/** {@link buildClient} for a resolved {@link Destination}. */
export function clientFor(destination: Destination): CloudWatchLogsClient {
  return buildClient({
    endpoint: destination.endpoint,
    region: destination.region,
    connectTimeoutMs: destination.connectTimeoutMs,
    requestTimeoutMs: destination.requestTimeoutMs,
  });
}

/** A flush function over `client` (which the caller destroys), creating missing groups with `groupSettings`. */
export function buildFlushFunction(
  client: CloudWatchLogsClient,
  createMissing: boolean,
  groupSettings: LogGroupCreateOptions = {},
): CloudWatchFlushFunction {
  return createCloudWatchFlushFunction({ ...groupSettings, client, createMissing });
}

/** Thrown by {@link checkDestination} when --no-create was given and the group or stream is missing. */
export class MissingDestinationError extends Error {
  override readonly name = 'MissingDestinationError';
}

/**
 * Makes sure the destination exists before reading any input, so that a missing group/stream,
 * bad credentials or an unreachable endpoint fail at once with one clear line. With
 * `createMissing` it creates them (as the flush function would, with its group settings); without,
 * it only looks. A name that depends on the events (a template such as `app-{date}`) is
 * `undefined`: only the group is checked then, or nothing when the group's name depends on them too.
 */
export async function checkDestination(
  flush: CloudWatchFlushFunction,
  group: string | undefined,
  stream: string | undefined,
  createMissing: boolean,
  groupSettings: LogGroupCreateOptions = {},
): Promise<void> {
  const service = flush.service;
  if (group === undefined) return;
  if (createMissing) {
    if (stream === undefined) await service.ensureLogGroup(group, groupSettings);
    else await service.ensureDestination(group, stream, groupSettings);
    return;
  }
  if (stream === undefined) {
    if (!(await findLogGroup(service.client, group))) {
      throw new MissingDestinationError(`log group ${JSON.stringify(group)} does not exist (and --no-create forbids creating it)`);
    }
    return;
  }
  const found = await findLogStream(service.client, group, stream);
  if (found === 'no-group') {
    throw new MissingDestinationError(`log group ${JSON.stringify(group)} does not exist (and --no-create forbids creating it)`);
  }
  if (found === 'no-stream') {
    throw new MissingDestinationError(
      `log stream ${JSON.stringify(stream)} does not exist in log group ${JSON.stringify(group)} (and --no-create forbids creating it)`,
    );
  }
}

export { readGroup, readStream } from '../aws/read.js';
export type { ReadEvent } from '../aws/read.js';
export { isResourceNotFound };
