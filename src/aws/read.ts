/**
 * Reading back from CloudWatch Logs: what `cwbatch tail` and `cwbatch demo` use to show what
 * arrived. Part of `cwbatch/aws` because only this layer imports the SDK.
 */
import type { CloudWatchLogsClient, FilteredLogEvent, OutputLogEvent } from '@aws-sdk/client-cloudwatch-logs';
import { isResourceNotFound } from './errors.js';
import { sdk } from './sdk.js';

const { DescribeLogGroupsCommand, DescribeLogStreamsCommand, FilterLogEventsCommand, GetLogEventsCommand } = sdk;

/**
 * Whether a log group exists: DescribeLogGroups by prefix, paged until the exact name is seen
 * (IAM `logs:DescribeLogGroups`). For checks before delivery (the CLI's `--no-create`), never on
 * the delivery path.
 */
export async function findLogGroup(client: CloudWatchLogsClient, group: string): Promise<boolean> {
  let nextToken: string | undefined;
  do {
    const out = await client.send(
      new DescribeLogGroupsCommand({ logGroupNamePrefix: group, ...(nextToken === undefined ? {} : { nextToken }) }),
    );
    if ((out.logGroups ?? []).some((g) => g.logGroupName === group)) return true;
    nextToken = out.nextToken;
  } while (nextToken !== undefined);
  return false;
}

/**
 * Whether a log stream exists: `'found'`, `'no-stream'` (the group exists) or `'no-group'`.
 * Uses DescribeLogStreams (IAM `logs:DescribeLogStreams`).
 */
export async function findLogStream(
  client: CloudWatchLogsClient,
  group: string,
  stream: string,
): Promise<'found' | 'no-stream' | 'no-group'> {
  try {
    const out = await client.send(new DescribeLogStreamsCommand({ logGroupName: group, logStreamNamePrefix: stream, limit: 50 }));
    return (out.logStreams ?? []).some((s) => s.logStreamName === stream) ? 'found' : 'no-stream';
  } catch (error) {
    if (isResourceNotFound(error)) return 'no-group';
    throw error;
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
  options: { startTime?: number | undefined; endTime?: number | undefined; token?: { value?: string | undefined } | undefined } = {},
): AsyncGenerator<ReadEvent[]> {
  const state = options.token ?? {};
  for (;;) {
    const out = await client.send(
      new GetLogEventsCommand({
        logGroupName: group,
        logStreamName: stream,
        startFromHead: true,
        ...(options.endTime === undefined ? {} : { endTime: options.endTime }),
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

/**
 * Events of a group (all streams, or those given), interleaved by timestamp: FilterLogEvents
 * paging. `startTime` and `endTime` (both inclusive) and `filterPattern` go to the service.
 */
export async function* readGroup(
  client: CloudWatchLogsClient,
  group: string,
  options: {
    startTime?: number | undefined;
    endTime?: number | undefined;
    filterPattern?: string | undefined;
    streams?: string[] | undefined;
  } = {},
): AsyncGenerator<ReadEvent[]> {
  let nextToken: string | undefined;
  do {
    const out = await client.send(
      new FilterLogEventsCommand({
        logGroupName: group,
        ...(options.startTime === undefined ? {} : { startTime: options.startTime }),
        ...(options.endTime === undefined ? {} : { endTime: options.endTime }),
        ...(options.filterPattern === undefined ? {} : { filterPattern: options.filterPattern }),
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
