/**
 * The embedded endpoint through the real AWS SDK v3 client, on loopback: every PutLogEvents rule
 * with AWS's status, `__type` and message, partial acceptance indices, read-back and paging,
 * protocol errors, and every fault (seeded, so they replay). The clock is injected: no sleeps.
 */
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  DeleteLogGroupCommand,
  DeleteLogStreamCommand,
  DescribeLogGroupsCommand,
  DescribeLogStreamsCommand,
  FilterLogEventsCommand,
  GetLogEventsCommand,
  PutLogEventsCommand,
  PutRetentionPolicyCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import type { InputLogEvent } from '@aws-sdk/client-cloudwatch-logs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startLocalEndpoint } from '../../src/local/index.js';
import type { LocalEndpoint } from '../../src/local/index.js';
import { makeClient } from '../helpers/client.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const NOW = Date.UTC(2026, 10, 26, 12, 0, 0);
const GROUP = '/cwbatch/test';
const STREAM = 'stream-1';

let clock = NOW;
let endpoint: LocalEndpoint;
let client: CloudWatchLogsClient;

/** Awaits a rejected SDK call and checks AWS's error name, HTTP status and (optionally) message. */
async function expectAwsError(
  call: Promise<unknown>,
  name: string,
  status: number,
  message?: string | RegExp,
): Promise<Record<string, any>> {
  const error = (await call.then(
    () => {
      throw new Error(`expected ${name}, but the call succeeded`);
    },
    (e: unknown) => e,
  )) as Record<string, any>;
  expect(error.name).toBe(name);
  expect(error.$metadata?.httpStatusCode).toBe(status);
  if (typeof message === 'string') expect(error.message).toBe(message);
  else if (message !== undefined) expect(error.message).toMatch(message);
  return error;
}

function put(events: InputLogEvent[], group = GROUP, stream = STREAM, c = client) {
  return c.send(new PutLogEventsCommand({ logGroupName: group, logStreamName: stream, logEvents: events }));
}

async function createStream(group = GROUP, stream = STREAM, c = client): Promise<void> {
  await c.send(new CreateLogGroupCommand({ logGroupName: group })).catch((e: { name?: string }) => {
    if (e.name !== 'ResourceAlreadyExistsException') throw e;
  });
  await c.send(new CreateLogStreamCommand({ logGroupName: group, logStreamName: stream }));
}

function ev(offsetMs: number, message = `event at ${offsetMs}`): InputLogEvent {
  return { timestamp: NOW + offsetMs, message };
}

beforeAll(async () => {
  endpoint = await startLocalEndpoint({ now: () => clock, seed: 7 });
  client = makeClient(endpoint.url);
});

afterAll(async () => {
  client.destroy();
  await endpoint.close();
});

beforeEach(async () => {
  clock = NOW;
  endpoint.setFaults({});
  endpoint.reset();
  await createStream();
});

describe('groups and streams', () => {
  it('creates, describes and deletes groups and streams', async () => {
    await createStream(GROUP, 'stream-2');
    await client.send(new CreateLogGroupCommand({ logGroupName: '/other' }));
    await client.send(new PutRetentionPolicyCommand({ logGroupName: GROUP, retentionInDays: 7 }));
    const groups = await client.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: '/cwbatch' }));
    expect(groups.logGroups?.map((g) => g.logGroupName)).toEqual([GROUP]);
    expect(groups.logGroups?.[0]?.retentionInDays).toBe(7);
    expect(groups.logGroups?.[0]?.creationTime).toBe(NOW);
    expect(groups.$metadata.httpStatusCode).toBe(200);
    expect(groups.$metadata.requestId).toMatch(/^[0-9a-f-]{36}$/);

    const streams = await client.send(new DescribeLogStreamsCommand({ logGroupName: GROUP }));
    expect(streams.logStreams?.map((s) => s.logStreamName)).toEqual(['stream-1', 'stream-2']);
    const paged = await client.send(new DescribeLogStreamsCommand({ logGroupName: GROUP, limit: 1 }));
    expect(paged.logStreams?.map((s) => s.logStreamName)).toEqual(['stream-1']);
    const rest = await client.send(
      new DescribeLogStreamsCommand({ logGroupName: GROUP, limit: 1, nextToken: paged.nextToken! }),
    );
    expect(rest.logStreams?.map((s) => s.logStreamName)).toEqual(['stream-2']);
    expect(rest.nextToken).toBeUndefined();

    await client.send(new DeleteLogStreamCommand({ logGroupName: GROUP, logStreamName: 'stream-2' }));
    expect(endpoint.store.streamNames(GROUP)).toEqual(['stream-1']);
    await client.send(new DeleteLogGroupCommand({ logGroupName: '/other' }));
    expect(endpoint.store.groupNames()).toEqual([GROUP]);
  });

  it('answers ResourceAlreadyExists and ResourceNotFound as AWS does', async () => {
    await expectAwsError(
      client.send(new CreateLogGroupCommand({ logGroupName: GROUP })),
      'ResourceAlreadyExistsException',
      400,
      'The specified log group already exists',
    );
    await expectAwsError(
      client.send(new CreateLogStreamCommand({ logGroupName: GROUP, logStreamName: STREAM })),
      'ResourceAlreadyExistsException',
      400,
      'The specified log stream already exists',
    );
    await expectAwsError(
      client.send(new CreateLogStreamCommand({ logGroupName: '/missing', logStreamName: STREAM })),
      'ResourceNotFoundException',
      400,
      'The specified log group does not exist.',
    );
    await expectAwsError(
      client.send(new DeleteLogGroupCommand({ logGroupName: '/missing' })),
      'ResourceNotFoundException',
      400,
      'The specified log group does not exist.',
    );
    await expectAwsError(
      client.send(new DeleteLogStreamCommand({ logGroupName: GROUP, logStreamName: 'missing' })),
      'ResourceNotFoundException',
      400,
      'The specified log stream does not exist.',
    );
    await expectAwsError(
      client.send(new DescribeLogStreamsCommand({ logGroupName: '/missing' })),
      'ResourceNotFoundException',
      400,
      'The specified log group does not exist.',
    );
  });

  it('refuses bad names with AWS validation messages', async () => {
    await expectAwsError(
      client.send(new CreateLogGroupCommand({ logGroupName: 'bad name' })),
      'InvalidParameterException',
      400,
      "1 validation error detected: Value 'bad name' at 'logGroupName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+",
    );
    await expectAwsError(
      client.send(new CreateLogGroupCommand({ logGroupName: 'g'.repeat(513) })),
      'InvalidParameterException',
      400,
      /Member must have length less than or equal to 512$/,
    );
    await expectAwsError(
      client.send(new CreateLogGroupCommand({ logGroupName: 'aws/reserved' })),
      'InvalidParameterException',
      400,
      /reserved/,
    );
    await expectAwsError(
      client.send(new CreateLogStreamCommand({ logGroupName: GROUP, logStreamName: 'a:b' })),
      'InvalidParameterException',
      400,
      "1 validation error detected: Value 'a:b' at 'logStreamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [^:*]*",
    );
    await expectAwsError(put([ev(0)], GROUP, 'a*b'), 'InvalidParameterException', 400, /regular expression pattern: \[\^:\*\]\*$/);
    await expectAwsError(put([ev(0)], 'bad name'), 'InvalidParameterException', 400, /at 'logGroupName'/);
  });

  it('validates the retention period against the enum', async () => {
    await expectAwsError(
      client.send(new PutRetentionPolicyCommand({ logGroupName: GROUP, retentionInDays: 2 })),
      'InvalidParameterException',
      400,
      /^1 validation error detected: Value '2' at 'retentionInDays' failed to satisfy constraint: Member must satisfy enum value set: \[1, 3, 5/,
    );
  });
});

describe('PutLogEvents rules', () => {
  it('stores a valid batch and returns a (legacy) sequence token, ignoring the one sent', async () => {
    const result = await client.send(
      new PutLogEventsCommand({
        logGroupName: GROUP,
        logStreamName: STREAM,
        logEvents: [ev(0, 'a'), ev(0, 'b'), ev(5, 'c')],
        sequenceToken: 'not-a-real-token',
      }),
    );
    expect(result.$metadata.httpStatusCode).toBe(200);
    expect(result.nextSequenceToken).toMatch(/^\d+$/);
    expect(result.rejectedLogEventsInfo).toBeUndefined();
    expect(endpoint.store.events(GROUP, STREAM).map((e) => e.message)).toEqual(['a', 'b', 'c']);
    expect(endpoint.store.events(GROUP, STREAM)[0]?.ingestionTime).toBe(NOW);
  });

  it('ResourceNotFoundException for a missing group or stream', async () => {
    await expectAwsError(put([ev(0)], '/missing'), 'ResourceNotFoundException', 400, 'The specified log group does not exist.');
    await expectAwsError(put([ev(0)], GROUP, 'missing'), 'ResourceNotFoundException', 400, 'The specified log stream does not exist.');
  });

  it('refuses an empty list', async () => {
    await expectAwsError(
      put([]),
      'InvalidParameterException',
      400,
      "1 validation error detected: Value '[]' at 'logEvents' failed to satisfy constraint: Member must have length greater than or equal to 1",
    );
  });

  it('refuses more than 10,000 events and accepts exactly 10,000', async () => {
    const events = Array.from({ length: 10_001 }, (_, i) => ev(i, 'x'));
    await expectAwsError(put(events), 'InvalidParameterException', 400, /Member must have length less than or equal to 10000$/);
    const ok = await put(events.slice(0, 10_000));
    expect(ok.$metadata.httpStatusCode).toBe(200);
    expect(endpoint.store.eventCount(GROUP, STREAM)).toBe(10_000);
  });

  it('refuses an empty message, naming the 1-based member', async () => {
    await expectAwsError(
      put([ev(0, 'ok'), ev(1, '')]),
      'InvalidParameterException',
      400,
      "1 validation error detected: Value '' at 'logEvents.2.member.message' failed to satisfy constraint: Member must have length greater than or equal to 1",
    );
  });

  it('refuses a negative timestamp', async () => {
    await expectAwsError(
      put([{ timestamp: -1, message: 'x' }]),
      'InvalidParameterException',
      400,
      "1 validation error detected: Value '-1' at 'logEvents.1.member.timestamp' failed to satisfy constraint: Member must have value greater than or equal to 0",
    );
  });

  it('refuses an event over 1 MB (incl. 26 bytes) and accepts one exactly at the limit', async () => {
    await expectAwsError(
      put([ev(0, 'x'.repeat(1_048_551))]),
      'InvalidParameterException',
      400,
      'Log event too large: 1048577 bytes exceeds limit of 1048576',
    );
    const ok = await put([ev(0, 'x'.repeat(1_048_550))]);
    expect(ok.$metadata.httpStatusCode).toBe(200);
  });

  it('honours a configured maxEventBytes (the pre-2025 256 KB limit)', async () => {
    const small = await startLocalEndpoint({ maxEventBytes: 262_144, now: () => clock });
    const c = makeClient(small.url);
    try {
      await createStream(GROUP, STREAM, c);
      await expectAwsError(
        put([ev(0, 'y'.repeat(262_119))], GROUP, STREAM, c),
        'InvalidParameterException',
        400,
        'Log event too large: 262145 bytes exceeds limit of 262144',
      );
      expect((await put([ev(0, 'y'.repeat(262_118))], GROUP, STREAM, c)).$metadata.httpStatusCode).toBe(200);
    } finally {
      c.destroy();
      await small.close();
    }
  });

  it('counts UTF-8 bytes, not UTF-16 units, toward the 1 MB batch limit', async () => {
    // 131,072 emoji = 262,144 UTF-16 units but 524,288 bytes; two such events exceed 1 MiB.
    const big = '\u{1F600}'.repeat(131_072);
    await expectAwsError(
      put([ev(0, big), ev(1, big)]),
      'InvalidParameterException',
      400,
      'Upload too large: 1048628 bytes exceeds limit of 1048576',
    );
  });

  it('refuses events out of chronological order (equal timestamps are fine)', async () => {
    await expectAwsError(
      put([ev(0), ev(0), ev(-1)]),
      'InvalidParameterException',
      400,
      'Log events in a single PutLogEvents request must be in chronological order.',
    );
  });

  it('refuses a batch spanning more than 24 h, and accepts exactly 24 h', async () => {
    await expectAwsError(
      put([ev(-DAY - 1), ev(0)]),
      'InvalidParameterException',
      400,
      'The batch of log events in a single PutLogEvents request cannot span more than 24 hours.',
    );
    expect((await put([ev(-DAY), ev(0)])).$metadata.httpStatusCode).toBe(200);
  });

  it('counts the 24 h span only over events not rejected as too old or too new', async () => {
    const result = await put([ev(-15 * DAY, 'old'), ev(-23 * HOUR, 'a'), ev(HOUR, 'b'), ev(3 * HOUR, 'new')]);
    expect(result.rejectedLogEventsInfo).toEqual({ tooOldLogEventEndIndex: 1, tooNewLogEventStartIndex: 3 });
    expect(endpoint.store.events(GROUP, STREAM).map((e) => e.message)).toEqual(['a', 'b']);
    await expectAwsError(
      put([ev(-15 * DAY), ev(-25 * HOUR), ev(0)]),
      'InvalidParameterException',
      400,
      'The batch of log events in a single PutLogEvents request cannot span more than 24 hours.',
    );
  });
});

describe('partial acceptance (rejectedLogEventsInfo)', () => {
  it('rejects too old and too new events with exclusive end / inclusive start indices', async () => {
    const result = await put([ev(-16 * DAY, 'old-1'), ev(-14 * DAY - 1, 'old-2'), ev(-HOUR, 'kept'), ev(0, 'now'), ev(2 * HOUR + 1, 'new-1'), ev(3 * HOUR, 'new-2')]);
    expect(result.$metadata.httpStatusCode).toBe(200);
    expect(result.rejectedLogEventsInfo).toEqual({ tooOldLogEventEndIndex: 2, tooNewLogEventStartIndex: 4 });
    expect(endpoint.store.events(GROUP, STREAM).map((e) => e.message)).toEqual(['kept', 'now']);
    expect(endpoint.stats().rejected).toEqual({ tooOld: 2, tooNew: 2, expired: 0 });
  });

  it('accepts events exactly 14 days old and exactly 2 hours ahead (the bounds are "more than")', async () => {
    expect((await put([ev(-14 * DAY, 'edge-old')])).rejectedLogEventsInfo).toBeUndefined();
    expect((await put([ev(2 * HOUR, 'edge-new')])).rejectedLogEventsInfo).toBeUndefined();
    expect(endpoint.store.eventCount(GROUP, STREAM)).toBe(2);
  });

  it('rejects events older than the retention period as expired', async () => {
    await client.send(new PutRetentionPolicyCommand({ logGroupName: GROUP, retentionInDays: 1 }));
    const result = await put([ev(-15 * DAY, 'old'), ev(-3 * DAY, 'expired-1'), ev(-DAY - 1, 'expired-2'), ev(-HOUR, 'kept')]);
    expect(result.rejectedLogEventsInfo).toEqual({ tooOldLogEventEndIndex: 1, expiredLogEventEndIndex: 3 });
    expect(endpoint.store.events(GROUP, STREAM).map((e) => e.message)).toEqual(['kept']);
    const onlyExpired = await put([ev(-2 * DAY, 'expired'), ev(0, 'kept')]);
    expect(onlyExpired.rejectedLogEventsInfo).toEqual({ expiredLogEventEndIndex: 1 });
  });

  it('answers 200 when every event is rejected, storing nothing', async () => {
    const result = await put([ev(-20 * DAY), ev(-15 * DAY)]);
    expect(result.rejectedLogEventsInfo).toEqual({ tooOldLogEventEndIndex: 2 });
    const future = await put([ev(5 * HOUR)]);
    expect(future.rejectedLogEventsInfo).toEqual({ tooNewLogEventStartIndex: 0 });
    expect(endpoint.store.eventCount(GROUP, STREAM)).toBe(0);
  });

  it('follows the injected clock', async () => {
    clock = NOW + 20 * DAY;
    const result = await put([ev(0, 'now old')]);
    expect(result.rejectedLogEventsInfo).toEqual({ tooOldLogEventEndIndex: 1 });
  });
});

describe('reading back', () => {
  beforeEach(async () => {
    // Two batches, the second partly older than the first: the store keeps timestamp order.
    await put(Array.from({ length: 15 }, (_, i) => ev(i * 10 + 5, `m${String(i * 10 + 5).padStart(3, '0')}`)));
    await put(Array.from({ length: 10 }, (_, i) => ev(i * 10, `m${String(i * 10).padStart(3, '0')}`)));
  });

  it('keeps each stream sorted by timestamp after an out-of-order batch', () => {
    const ts = endpoint.store.events(GROUP, STREAM).map((e) => e.timestamp - NOW);
    expect(ts).toEqual([...ts].sort((a, b) => a - b));
    expect(ts).toHaveLength(25);
  });

  it('GetLogEvents returns the latest page by default and pages backward', async () => {
    const latest = await client.send(new GetLogEventsCommand({ logGroupName: GROUP, logStreamName: STREAM, limit: 10 }));
    expect(latest.events?.map((e) => e.timestamp! - NOW)).toEqual([75, 80, 85, 90, 95, 105, 115, 125, 135, 145]);
    const before = await client.send(
      new GetLogEventsCommand({ logGroupName: GROUP, logStreamName: STREAM, limit: 10, nextToken: latest.nextBackwardToken! }),
    );
    expect(before.events?.map((e) => e.timestamp! - NOW)).toEqual([25, 30, 35, 40, 45, 50, 55, 60, 65, 70]);
    expect(before.events?.[0]).toMatchObject({ message: 'm025', ingestionTime: NOW });
  });

  it('GetLogEvents with startFromHead pages forward and returns the same token at the end', async () => {
    const seen: number[] = [];
    let token: string | undefined;
    let previous: string | undefined;
    for (let i = 0; i < 10; i++) {
      const page = await client.send(
        new GetLogEventsCommand({
          logGroupName: GROUP,
          logStreamName: STREAM,
          limit: 10,
          startFromHead: true,
          ...(token === undefined ? {} : { nextToken: token }),
        }),
      );
      seen.push(...page.events!.map((e) => e.timestamp! - NOW));
      previous = token;
      token = page.nextForwardToken;
      if (token === previous) break;
    }
    expect(token).toBe(previous);
    expect(seen).toHaveLength(25);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
  });

  it('GetLogEvents honours startTime (inclusive) and endTime (exclusive)', async () => {
    const page = await client.send(
      new GetLogEventsCommand({ logGroupName: GROUP, logStreamName: STREAM, startFromHead: true, startTime: NOW + 20, endTime: NOW + 40 }),
    );
    expect(page.events?.map((e) => e.timestamp! - NOW)).toEqual([20, 25, 30, 35]);
  });

  it('FilterLogEvents interleaves streams by timestamp, filters by text and stream, pages', async () => {
    await createStream(GROUP, 'stream-0');
    await put([ev(1, 'zero ERROR a'), ev(22, 'zero ok'), ev(33, 'zero ERROR b')], GROUP, 'stream-0');
    const all = await client.send(new FilterLogEventsCommand({ logGroupName: GROUP, startTime: NOW, endTime: NOW + 36 }));
    expect(all.events?.map((e) => `${e.logStreamName}@${e.timestamp! - NOW}`)).toEqual([
      'stream-1@0',
      'stream-0@1',
      'stream-1@5',
      'stream-1@10',
      'stream-1@15',
      'stream-1@20',
      'stream-0@22',
      'stream-1@25',
      'stream-1@30',
      'stream-0@33',
      'stream-1@35',
    ]);
    const errors = await client.send(new FilterLogEventsCommand({ logGroupName: GROUP, filterPattern: 'ERROR' }));
    expect(errors.events?.map((e) => e.message)).toEqual(['zero ERROR a', 'zero ERROR b']);
    const oneStream = await client.send(new FilterLogEventsCommand({ logGroupName: GROUP, logStreamNames: ['stream-0'] }));
    expect(oneStream.events).toHaveLength(3);

    const collected: string[] = [];
    let nextToken: string | undefined;
    let pages = 0;
    do {
      const page = await client.send(
        new FilterLogEventsCommand({ logGroupName: GROUP, limit: 7, ...(nextToken === undefined ? {} : { nextToken }) }),
      );
      collected.push(...page.events!.map((e) => e.message!));
      nextToken = page.nextToken;
      pages++;
    } while (nextToken !== undefined && pages < 20);
    expect(collected).toHaveLength(28);
    expect(pages).toBe(4);
    expect(new Set(collected).size).toBe(28);
  });

  it('FilterLogEvents on a missing group is ResourceNotFound', async () => {
    await expectAwsError(
      client.send(new FilterLogEventsCommand({ logGroupName: '/missing' })),
      'ResourceNotFoundException',
      400,
      'The specified log group does not exist.',
    );
  });
});

describe('protocol', () => {
  async function raw(body: string, headers: Record<string, string>) {
    const response = await fetch(endpoint.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.1', ...headers },
      body,
    });
    return { status: response.status, headers: response.headers, json: (await response.json()) as Record<string, unknown> };
  }
  const signed = {
    authorization: 'AWS4-HMAC-SHA256 Credential=test/20261126/us-east-1/logs/aws4_request, SignedHeaders=host, Signature=00',
  };

  it('refuses a request without an Authorization header', async () => {
    const r = await raw('{}', { 'x-amz-target': 'Logs_20140328.DescribeLogGroups' });
    expect(r.status).toBe(400);
    expect(r.json).toEqual({ __type: 'MissingAuthenticationTokenException', message: 'Missing Authentication Token' });
    expect(r.headers.get('x-amzn-requestid')).toBeTruthy();
  });

  it('accepts unsigned requests when requireAuth is false', async () => {
    const open = await startLocalEndpoint({ requireAuth: false });
    try {
      const response = await fetch(open.url, {
        method: 'POST',
        headers: { 'x-amz-target': 'Logs_20140328.DescribeLogGroups' },
        body: '{}',
      });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ logGroups: [] });
    } finally {
      await open.close();
    }
  });

  it('answers malformed JSON with 400 SerializationException', async () => {
    const r = await raw('{"logGroupName": ', { ...signed, 'x-amz-target': 'Logs_20140328.CreateLogGroup' });
    expect(r.status).toBe(400);
    expect(r.json.__type).toBe('SerializationException');
    const arr = await raw('[1,2]', { ...signed, 'x-amz-target': 'Logs_20140328.CreateLogGroup' });
    expect(arr.status).toBe(400);
    expect(arr.json.__type).toBe('SerializationException');
  });

  it('answers an unknown or missing target with 400 UnknownOperationException', async () => {
    const r = await raw('{}', { ...signed, 'x-amz-target': 'Logs_20140328.Nope' });
    expect(r.status).toBe(400);
    expect(r.json.__type).toBe('UnknownOperationException');
    const none = await raw('{}', { ...signed });
    expect(none.json.__type).toBe('UnknownOperationException');
  });

  it('survives garbage of the wrong types without crashing', async () => {
    const r = await raw('{"logGroupName": 5, "logStreamName": {}, "logEvents": "x"}', {
      ...signed,
      'x-amz-target': 'Logs_20140328.PutLogEvents',
    });
    expect(r.status).toBe(400);
    const events = await raw(`{"logGroupName": "${GROUP}", "logStreamName": "${STREAM}", "logEvents": [null, 3]}`, {
      ...signed,
      'x-amz-target': 'Logs_20140328.PutLogEvents',
    });
    expect(events.status).toBe(400);
    expect(events.json.__type).toBe('SerializationException');
    const noMessage = await raw(`{"logGroupName": "${GROUP}", "logStreamName": "${STREAM}", "logEvents": [{"timestamp": 1}]}`, {
      ...signed,
      'x-amz-target': 'Logs_20140328.PutLogEvents',
    });
    expect(noMessage.json).toEqual({
      __type: 'InvalidParameterException',
      message:
        "1 validation error detected: Value null at 'logEvents.1.member.message' failed to satisfy constraint: Member must not be null",
    });
    // Still serving.
    expect((await client.send(new DescribeLogGroupsCommand({}))).logGroups).toHaveLength(1);
  });

  it('success responses carry the AWS JSON 1.1 content type and a request id', async () => {
    const r = await raw('{}', { ...signed, 'x-amz-target': 'Logs_20140328.DescribeLogGroups' });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/x-amz-json-1.1');
    expect(r.headers.get('x-amzn-requestid')).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('faults', () => {
  afterEach(() => endpoint.setFaults({}));

  it('throttleRate: 400 ThrottlingException "Rate exceeded"', async () => {
    endpoint.setFaults({ throttleRate: 1 });
    await expectAwsError(put([ev(0)]), 'ThrottlingException', 400, 'Rate exceeded');
    expect(endpoint.stats().faults.throttledByRate).toBe(1);
    expect(endpoint.store.eventCount(GROUP, STREAM)).toBe(0);
    // Only PutLogEvents is faulted.
    expect((await client.send(new DescribeLogGroupsCommand({}))).$metadata.httpStatusCode).toBe(200);
  });

  it('requestsPerSecond: a token bucket on the injected clock', async () => {
    endpoint.setFaults({ requestsPerSecond: 2 });
    await put([ev(0)]);
    await put([ev(0)]);
    await expectAwsError(put([ev(0)]), 'ThrottlingException', 400, 'Rate exceeded');
    clock += 500;
    await put([ev(0)]);
    await expectAwsError(put([ev(0)]), 'ThrottlingException', 400, 'Rate exceeded');
    expect(endpoint.stats().faults.throttledByRequestsPerSecond).toBe(2);
    expect(endpoint.store.eventCount(GROUP, STREAM)).toBe(3);
  });

  it('unavailableRate: 503 ServiceUnavailableException; internalErrorRate: 500 InternalFailure', async () => {
    endpoint.setFaults({ unavailableRate: 1 });
    await expectAwsError(put([ev(0)]), 'ServiceUnavailableException', 503);
    endpoint.setFaults({ internalErrorRate: 1 });
    await expectAwsError(put([ev(0)]), 'InternalFailure', 500);
    expect(endpoint.stats().faults).toMatchObject({ unavailable: 1, internalError: 1 });
    expect(endpoint.store.eventCount(GROUP, STREAM)).toBe(0);
  });

  it('storeThenFailRate: stores the events, answers 503, so a retry duplicates them', async () => {
    endpoint.setFaults({ storeThenFailRate: 1 });
    await expectAwsError(put([ev(0, 'dup')]), 'ServiceUnavailableException', 503);
    expect(endpoint.store.eventCount(GROUP, STREAM)).toBe(1);
    endpoint.setFaults({});
    await put([ev(0, 'dup')]);
    expect(endpoint.store.events(GROUP, STREAM).map((e) => e.message)).toEqual(['dup', 'dup']);
    expect(endpoint.stats().faults.storeThenFail).toBe(1);
  });

  it('dropConnectionRate: the socket is destroyed without an answer', async () => {
    endpoint.setFaults({ dropConnectionRate: 1 });
    const error = (await put([ev(0)]).catch((e: unknown) => e)) as Record<string, any>;
    expect(error).toBeInstanceOf(Error);
    expect(error.$metadata?.httpStatusCode).toBeUndefined();
    expect(`${error.code ?? ''} ${error.message}`).toMatch(/ECONNRESET|socket hang up|aborted/i);
    expect(endpoint.stats().faults.droppedConnections).toBe(1);
    endpoint.setFaults({});
    expect((await put([ev(0)])).$metadata.httpStatusCode).toBe(200);
  });

  it('latencyMs delays answers (fixed or a range) and is counted', async () => {
    endpoint.setFaults({ latencyMs: 30 });
    const started = performance.now();
    await put([ev(0)]);
    expect(performance.now() - started).toBeGreaterThanOrEqual(25);
    endpoint.setFaults({ latencyMs: [1, 5] });
    await put([ev(0)]);
    expect(endpoint.stats().faults.delayedRequests).toBe(2);
  });

  it('setFaults replaces the whole set; faults given at start apply at once', async () => {
    const faulty = await startLocalEndpoint({ faults: { unavailableRate: 1 }, now: () => clock });
    const c = makeClient(faulty.url);
    try {
      await createStream(GROUP, STREAM, c);
      await expectAwsError(put([ev(0)], GROUP, STREAM, c), 'ServiceUnavailableException', 503);
      faulty.setFaults({ throttleRate: 1 });
      await expectAwsError(put([ev(0)], GROUP, STREAM, c), 'ThrottlingException', 400);
      faulty.setFaults({});
      expect((await put([ev(0)], GROUP, STREAM, c)).$metadata.httpStatusCode).toBe(200);
    } finally {
      c.destroy();
      await faulty.close();
    }
    expect(() => endpoint.setFaults({ throttleRate: 2 })).toThrow(RangeError);
  });

  it('seeded faults replay identically (across endpoints and after reset)', async () => {
    const faults = { throttleRate: 0.2, unavailableRate: 0.2, internalErrorRate: 0.1, storeThenFailRate: 0.1 };
    async function run(target: LocalEndpoint): Promise<string[]> {
      const c = makeClient(target.url);
      try {
        await createStream(GROUP, STREAM, c);
        const outcomes: string[] = [];
        for (let i = 0; i < 40; i++) {
          outcomes.push(await put([ev(i)], GROUP, STREAM, c).then(() => 'ok', (e: { name: string }) => e.name));
        }
        return outcomes;
      } finally {
        c.destroy();
      }
    }
    const a = await startLocalEndpoint({ seed: 42, faults, now: () => clock });
    const b = await startLocalEndpoint({ seed: 42, faults, now: () => clock });
    const other = await startLocalEndpoint({ seed: 43, faults, now: () => clock });
    try {
      const first = await run(a);
      expect(await run(b)).toEqual(first);
      expect(await run(other)).not.toEqual(first);
      expect(new Set(first)).toEqual(new Set(['ok', 'ThrottlingException', 'ServiceUnavailableException', 'InternalFailure']));
      a.reset();
      expect(await run(a)).toEqual(first);
      const s = a.stats().faults;
      expect(s.throttledByRate + s.unavailable + s.internalError + s.storeThenFail).toBe(first.filter((o) => o !== 'ok').length);
    } finally {
      await Promise.all([a.close(), b.close(), other.close()]);
    }
  });
});

describe('options', () => {
  it('keepEvents: false counts events without keeping them', async () => {
    const lean = await startLocalEndpoint({ keepEvents: false, now: () => clock });
    const c = makeClient(lean.url);
    try {
      await createStream(GROUP, STREAM, c);
      await put([ev(0, 'a'), ev(1, 'b')], GROUP, STREAM, c);
      expect(lean.store.eventCount(GROUP, STREAM)).toBe(2);
      expect(lean.store.events(GROUP, STREAM)).toEqual([]);
      expect(lean.stats()).toMatchObject({ putLogEventsRequests: 1, eventsStored: 2 });
      const streams = await c.send(new DescribeLogStreamsCommand({ logGroupName: GROUP }));
      expect(streams.logStreams?.[0]).toMatchObject({ firstEventTimestamp: NOW, lastEventTimestamp: NOW + 1 });
    } finally {
      c.destroy();
      await lean.close();
    }
  });

  it('onStored reports the stored range of each PutLogEvents', async () => {
    const seen: string[] = [];
    const observed = await startLocalEndpoint({
      keepEvents: false,
      now: () => clock,
      onStored: (g, s, events, start, end) => seen.push(`${g}/${s}:${events.slice(start, end).map((e) => e.message).join(',')}`),
    });
    const c = makeClient(observed.url);
    try {
      await createStream(GROUP, STREAM, c);
      await put([ev(-15 * DAY, 'old'), ev(0, 'a'), ev(1, 'b'), ev(3 * HOUR, 'new')], GROUP, STREAM, c);
      expect(seen).toEqual([`${GROUP}/${STREAM}:a,b`]);
    } finally {
      c.destroy();
      await observed.close();
    }
  });

  it('refuses bad options, naming them', async () => {
    await expect(startLocalEndpoint({ maxEventBytes: 100 })).rejects.toThrow(/`maxEventBytes`/);
    await expect(startLocalEndpoint({ faults: { latencyMs: [5, 1] } })).rejects.toThrow(/`faults.latencyMs`/);
  });

  it('close() is idempotent', async () => {
    const e = await startLocalEndpoint();
    const first = e.close();
    expect(e.close()).toBe(first); // the same close, not a second one
    await first;
    await expect(e.close()).resolves.toBeUndefined();
    // Closed for real: nothing listens on the port any more.
    await expect(fetch(e.url, { method: 'POST' })).rejects.toThrow();
  });
});
