/**
 * The CLI's AWS calls. Everything here goes through `src/aws` except the read calls
 * (DescribeLogStreams, GetLogEvents, FilterLogEvents), which `src/aws` does not offer yet: they
 * are kept in this one file, loaded lazily so that `--help` and `--dry-run` work without the
 * optional SDK peer dependency. (Reported: they belong in `src/aws` as read helpers.)
 */
import {
  DescribeLogStreamsCommand,
  FilterLogEventsCommand,
  GetLogEventsCommand,
  type CloudWatchLogsClient,
  type FilteredLogEvent,
  type OutputLogEvent,
} from '@aws-sdk/client-cloudwatch-logs';
import { createCloudWatchFlushFunction, type CloudWatchFlushFunction } from '../aws/flush-function.js';
import { createCloudWatchLogsClient } from '../aws/client.js';
import { isResourceNotFound } from '../aws/errors.js';

/** Where to send requests; `undefined` fields are left to the SDK's usual resolution (env, profile). */
export interface ClientSettings {
  endpoint?: string | undefined;
  region?: string | undefined;
  /** Static credentials; without them the SDK's default provider chain is used. */
  credentials?: { accessKeyId: string; secretAccessKey: string } | undefined;
}

/** Fake static credentials for the embedded endpoint (it checks that requests are signed, not by whom). */
export const LOCAL_CREDENTIALS = Object.freeze({ accessKeyId: 'test', secretAccessKey: 'test' });

/** A client with one HTTP attempt per call (the buffer owns retries). */
export function buildClient(settings: ClientSettings): CloudWatchLogsClient {
  const config: Record<string, unknown> = {};
  if (settings.endpoint !== undefined) config['endpoint'] = settings.endpoint;
  if (settings.region !== undefined) config['region'] = settings.region;
  if (settings.credentials !== undefined) config['credentials'] = { ...settings.credentials };
  return createCloudWatchLogsClient(config);
}

/** A flush function over `client` (which the caller destroys). */
export function buildFlushFunction(client: CloudWatchLogsClient, createMissing: boolean): CloudWatchFlushFunction {
  return createCloudWatchFlushFunction({ client, createMissing });
}

/** Thrown by {@link checkDestination} when --no-create was given and the group or stream is missing. */
export class MissingDestinationError extends Error {
  override readonly name = 'MissingDestinationError';
}

/**
 * Makes sure the destination exists before reading any input, so that a missing group/stream,
 * bad credentials or an unreachable endpoint fail at once with one clear line. With
 * `createMissing` it creates them (as the flush function would); without, it only looks.
 */
export async function checkDestination(flush: CloudWatchFlushFunction, group: string, stream: string, createMissing: boolean): Promise<void> {
  const service = flush.service;
  if (createMissing) {
    try {
      await service.ensureLogStream(group, stream);
    } catch (error) {
      if (!isResourceNotFound(error)) throw error;
      service.forget(group);
      await service.ensureLogGroup(group);
      await service.ensureLogStream(group, stream);
    }
    return;
  }
  let found: boolean;
  try {
    const out = await service.client.send(new DescribeLogStreamsCommand({ logGroupName: group, logStreamNamePrefix: stream, limit: 50 }));
    found = (out.logStreams ?? []).some((s) => s.logStreamName === stream);
  } catch (error) {
    if (isResourceNotFound(error)) {
      throw new MissingDestinationError(`log group ${JSON.stringify(group)} does not exist (and --no-create forbids creating it)`);
    }
    throw error;
  }
  if (!found) {
    throw new MissingDestinationError(
      `log stream ${JSON.stringify(stream)} does not exist in log group ${JSON.stringify(group)} (and --no-create forbids creating it)`,
    );
  }
}

/** One event read back. */
export interface ReadEvent {
  logStreamName: string;
  timestamp: number;
  message: string;
  eventId?: string | undefined;
}

/**
 * Every event of one stream from `startTime` on, oldest first: GetLogEvents from the head,
 * following `nextForwardToken` until it stops changing (the API's end-of-stream signal).
 * Yields page by page.
 */
export async function* readStream(
  client: CloudWatchLogsClient,
  group: string,
  stream: string,
  options: { startTime?: number | undefined; token?: { value?: string | undefined } | undefined } = {},
): AsyncGenerator<ReadEvent[]> {
  const state = options.token ?? {};
  for (;;) {
    const out = await client.send(
      new GetLogEventsCommand({
        logGroupName: group,
        logStreamName: stream,
        startFromHead: true,
        ...(state.value === undefined ? (options.startTime === undefined ? {} : { startTime: options.startTime }) : { nextToken: state.value }),
      }),
    );
    const events = (out.events ?? []).map((e: OutputLogEvent) => ({
      logStreamName: stream,
      timestamp: e.timestamp ?? 0,
      message: e.message ?? '',
    }));
    if (events.length > 0) yield events;
    const next = out.nextForwardToken;
    if (next === undefined || next === state.value) return;
    state.value = next;
    if (events.length === 0) return;
  }
}

/** Events of a group (all streams, or those given), interleaved by timestamp: FilterLogEvents paging. */
export async function* readGroup(
  client: CloudWatchLogsClient,
  group: string,
  options: { startTime?: number | undefined; streams?: string[] | undefined } = {},
): AsyncGenerator<ReadEvent[]> {
  let nextToken: string | undefined;
  do {
    const out = await client.send(
      new FilterLogEventsCommand({
        logGroupName: group,
        ...(options.startTime === undefined ? {} : { startTime: options.startTime }),
        ...(options.streams === undefined ? {} : { logStreamNames: options.streams }),
        ...(nextToken === undefined ? {} : { nextToken }),
      }),
    );
    const events = (out.events ?? []).map((e: FilteredLogEvent) => ({
      logStreamName: e.logStreamName ?? '',
      timestamp: e.timestamp ?? 0,
      message: e.message ?? '',
      eventId: e.eventId,
    }));
    if (events.length > 0) yield events;
    nextToken = out.nextToken;
  } while (nextToken !== undefined);
}

export { isResourceNotFound };
