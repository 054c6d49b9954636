/**
 * One table of cases, two judges: the buffer's checks at add() and the embedded endpoint's
 * PutLogEvents (real HTTP on loopback, real AWS SDK client). Both read rules.ts (issue 14: "one
 * source for every AWS rule"), so they must agree on every row; a rule written twice that drifts
 * (as the `aws/` prefix once did) fails here. What the buffer accepts it then delivers through
 * the endpoint, so "accepted" means accepted end to end.
 */
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  PutLogEventsCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCloudWatchFlushFunction } from '../../src/aws/index.js';
import { BatchBufferImpl, EVENT_OVERHEAD_BYTES, MAX_EVENT_BYTES, MAX_NAME_LENGTH } from '../../src/batch/index.js';
import type { InputLogEvent } from '../../src/batch/index.js';
import { startLocalEndpoint } from '../../src/local/index.js';
import type { LocalEndpoint } from '../../src/local/index.js';
import { clientConfig, makeClient } from '../helpers/client.js';

const NOW = Date.UTC(2026, 10, 26, 12, 0, 0);

interface Case {
  label: string;
  group: string;
  stream: string;
  event: InputLogEvent;
  valid: boolean;
}

const ok: InputLogEvent = { timestamp: NOW, message: 'hello' };
const CASES: Case[] = [
  { label: 'a plain event', group: '/app/ok', stream: 's', event: ok, valid: true },
  { label: 'every character the group pattern allows', group: '/a.b-c_d#E/9', stream: 's', event: ok, valid: true },
  { label: 'a group of 512 characters', group: 'g'.repeat(MAX_NAME_LENGTH), stream: 's', event: ok, valid: true },
  { label: 'a group containing "aws/" later on', group: '/aws/lambda/fn', stream: 's', event: ok, valid: true },
  { label: 'a group starting with "aws/" (reserved)', group: 'aws/reserved', stream: 's', event: ok, valid: false },
  { label: 'a group with a space', group: 'bad group', stream: 's', event: ok, valid: false },
  { label: 'a group of 513 characters', group: 'g'.repeat(MAX_NAME_LENGTH + 1), stream: 's', event: ok, valid: false },
  { label: 'a group with a colon', group: 'a:b', stream: 's', event: ok, valid: false },
  { label: 'a stream with spaces and non-ASCII', group: '/app/ok', stream: 'a b é', event: ok, valid: true },
  { label: 'a stream of 512 characters', group: '/app/ok', stream: 's'.repeat(MAX_NAME_LENGTH), event: ok, valid: true },
  { label: 'a stream with a colon', group: '/app/ok', stream: 'a:b', event: ok, valid: false },
  { label: 'a stream with a star', group: '/app/ok', stream: 'a*b', event: ok, valid: false },
  { label: 'a stream of 513 characters', group: '/app/ok', stream: 's'.repeat(MAX_NAME_LENGTH + 1), event: ok, valid: false },
  { label: 'an empty message', group: '/app/ok', stream: 's', event: { timestamp: NOW, message: '' }, valid: false },
  { label: 'a negative timestamp', group: '/app/ok', stream: 's', event: { timestamp: -1, message: 'x' }, valid: false },
  { label: 'a fractional timestamp', group: '/app/ok', stream: 's', event: { timestamp: NOW + 0.5, message: 'x' }, valid: false },
  {
    label: 'an event of exactly the largest size',
    group: '/app/ok',
    stream: 's',
    event: { timestamp: NOW, message: 'x'.repeat(MAX_EVENT_BYTES - EVENT_OVERHEAD_BYTES) },
    valid: true,
  },
];

let endpoint: LocalEndpoint;
let client: CloudWatchLogsClient;

beforeAll(async () => {
  endpoint = await startLocalEndpoint({ host: '127.0.0.1', port: 0, now: () => NOW });
  client = makeClient(endpoint.url);
});

afterAll(async () => {
  client.destroy();
  await endpoint.close();
});

/** The buffer's verdict: add() resolves (and the event is then delivered through the endpoint), or rejects. */
async function bufferAccepts(c: Case): Promise<boolean> {
  const flush = createCloudWatchFlushFunction({ clientConfig: clientConfig(endpoint.url) });
  const buffer = new BatchBufferImpl(flush, { now: () => NOW, maxRetries: 0, onError: () => undefined });
  const accepted = await buffer.add(c.group, c.stream, c.event).then(
    () => true,
    () => false,
  );
  await buffer.stop();
  const m = buffer.getMetrics();
  // Accepted means delivered as it was: nothing dropped, nothing rejected on the way.
  if (accepted) expect({ delivered: m.eventsDelivered, dropped: m.eventsDropped }, c.label).toEqual({ delivered: 1, dropped: 0 });
  else expect(m.eventsAccepted, c.label).toBe(0);
  return accepted;
}

/** The endpoint's verdict on PutLogEvents with this event (the group and stream created first where it allows). */
async function endpointAccepts(c: Case): Promise<boolean> {
  await client.send(new CreateLogGroupCommand({ logGroupName: c.group })).catch(() => undefined);
  await client.send(new CreateLogStreamCommand({ logGroupName: c.group, logStreamName: c.stream })).catch(() => undefined);
  try {
    await client.send(new PutLogEventsCommand({ logGroupName: c.group, logStreamName: c.stream, logEvents: [c.event] }));
    return true;
  } catch (error) {
    // Refused by a rule, not because something was missing.
    expect((error as { name?: unknown }).name, c.label).toBe('InvalidParameterException');
    return false;
  }
}

describe('the buffer and the embedded endpoint agree on every rule (one table, rules.ts)', () => {
  for (const c of CASES) {
    it(`${c.valid ? 'accept' : 'refuse'} ${c.label}`, async () => {
      endpoint.reset();
      expect(await endpointAccepts(c)).toBe(c.valid);
      endpoint.reset();
      expect(await bufferAccepts(c)).toBe(c.valid);
    });
  }
});
