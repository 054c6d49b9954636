import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LogEventsService, createCloudWatchFlushFunction, type CloudWatchFlushFunction } from '../../../src/aws/index.js';
import { classifyError } from '../../../src/batch/retry.js';
import { startStub, stubClientConfig, userClient, type Stub } from './stub-server.js';

let stub: Stub;
let flush: CloudWatchFlushFunction;

beforeEach(async () => {
  stub = await startStub();
  flush = createCloudWatchFlushFunction({ clientConfig: stubClientConfig(stub.url) });
});

afterEach(async () => {
  flush.service.destroy();
  await stub.close();
});

const events = [
  { timestamp: 1_700_000_000_000, message: 'α' },
  { timestamp: 1_700_000_000_500, message: 'β 🚀' },
];
const stored = (group: string, stream: string) => stub.groups.get(group)?.streams.get(stream);

describe('createMissing (default true)', () => {
  it('creates a missing group and stream, then sends again', async () => {
    await flush('g', 's', events);
    expect(stub.ops()).toEqual(['PutLogEvents', 'CreateLogStream', 'CreateLogGroup', 'CreateLogStream', 'PutLogEvents']);
    expect(stored('g', 's')).toEqual(events);
  });

  it('creates only the stream when the group exists', async () => {
    stub.groups.set('g', { streams: new Map() });
    await flush('g', 's', events);
    expect(stub.ops()).toEqual(['PutLogEvents', 'CreateLogStream', 'PutLogEvents']);
    expect(stored('g', 's')).toEqual(events);
  });

  it('sends once when both exist', async () => {
    stub.groups.set('g', { streams: new Map([['s', []]]) });
    await flush('g', 's', events);
    expect(stub.ops()).toEqual(['PutLogEvents']);
  });

  it('a stream created by someone else in between (ResourceAlreadyExists) counts as created', async () => {
    stub.groups.set('g', { streams: new Map() });
    stub.override = (r) => {
      if (r.op === 'PutLogEvents' && stub.requests.length === 1) {
        stub.groups.get('g')!.streams.set('s', []);
        return { error: 'ResourceNotFoundException', message: 'The specified log stream does not exist.' };
      }
      return undefined;
    };
    await flush('g', 's', events);
    expect(stub.ops()).toEqual(['PutLogEvents', 'CreateLogStream', 'PutLogEvents']);
    expect(stored('g', 's')).toEqual(events);
  });

  it('re-creates a group deleted while running, despite the cache', async () => {
    await flush('g', 's', events);
    stub.groups.delete('g');
    stub.requests.length = 0;
    await flush('g', 's', events);
    expect(stub.ops()).toEqual(['PutLogEvents', 'CreateLogStream', 'CreateLogGroup', 'CreateLogStream', 'PutLogEvents']);
    expect(stored('g', 's')).toEqual(events);
  });

  it('concurrent flushes to streams of one missing group create the group once', async () => {
    const streams = ['a', 'b', 'c', 'd', 'e'];
    await Promise.all(streams.map((s) => flush('g', s, events)));
    expect(stub.ops().filter((op) => op === 'CreateLogGroup')).toHaveLength(1);
    for (const s of streams) expect(stored('g', s)).toEqual(events);
  });

  it('sends again only once: a second ResourceNotFoundException is thrown as is', async () => {
    stub.override = (r) =>
      r.op === 'PutLogEvents' ? { error: 'ResourceNotFoundException', message: 'The specified log stream does not exist.' } : undefined;
    await expect(flush('g', 's', events)).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    expect(stub.ops().filter((op) => op === 'PutLogEvents')).toHaveLength(2);
  });

  it('sets retentionInDays on a group it creates', async () => {
    const withRetention = createCloudWatchFlushFunction({ clientConfig: stubClientConfig(stub.url), retentionInDays: 14 });
    await withRetention('g', 's', events);
    expect(stub.ops()).toEqual([
      'PutLogEvents',
      'CreateLogStream',
      'CreateLogGroup',
      'PutRetentionPolicy',
      'CreateLogStream',
      'PutLogEvents',
    ]);
    expect(stub.groups.get('g')!.retentionInDays).toBe(14);
    withRetention.service.destroy();
  });

  it('with createMissing false, throws the ResourceNotFoundException after one request', async () => {
    const plain = createCloudWatchFlushFunction({ clientConfig: stubClientConfig(stub.url), createMissing: false });
    const error = (await plain('g', 's', events).catch((e: unknown) => e)) as any;
    expect(error.name).toBe('ResourceNotFoundException');
    expect(error.$metadata.httpStatusCode).toBe(400);
    expect(stub.ops()).toEqual(['PutLogEvents']);
    plain.service.destroy();
  });
});

describe('sequence tokens', () => {
  beforeEach(() => {
    stub.groups.set('g', { streams: new Map([['s', []]]) });
  });

  it('sends none by default, even when the buffer passes one, and returns none', async () => {
    const result = await flush('g', 's', events, 'stale-token');
    expect(stub.requests[0]!.body).not.toHaveProperty('sequenceToken');
    expect(result).toEqual({ rejectedLogEventsInfo: undefined });
  });

  it('with useSequenceTokens, sends the token and returns the next one', async () => {
    const legacy = createCloudWatchFlushFunction({ clientConfig: stubClientConfig(stub.url), useSequenceTokens: true });
    const first = await legacy('g', 's', events);
    expect(stub.requests[0]!.body).not.toHaveProperty('sequenceToken');
    expect(first!.nextSequenceToken).toBe('00000001');
    await legacy('g', 's', events, first!.nextSequenceToken);
    expect(stub.requests[1]!.body['sequenceToken']).toBe('00000001');
    legacy.service.destroy();
  });

  it('does not send a stale token to a stream it just created', async () => {
    const legacy = createCloudWatchFlushFunction({ clientConfig: stubClientConfig(stub.url), useSequenceTokens: true });
    await legacy('g', 'fresh', events, 'stale');
    expect(stub.ops()).toEqual(['PutLogEvents', 'CreateLogStream', 'PutLogEvents']);
    expect(stub.requests[0]!.body['sequenceToken']).toBe('stale');
    expect(stub.requests[2]!.body).not.toHaveProperty('sequenceToken');
    legacy.service.destroy();
  });
});

describe('results, errors and abort', () => {
  beforeEach(() => {
    stub.groups.set('g', { streams: new Map([['s', []]]) });
  });

  it('passes rejectedLogEventsInfo through', async () => {
    stub.override = () => ({ body: { rejectedLogEventsInfo: { tooOldLogEventEndIndex: 1 } } });
    expect(await flush('g', 's', events)).toEqual({ rejectedLogEventsInfo: { tooOldLogEventEndIndex: 1 } });
  });

  it("re-throws the SDK's errors unwrapped (name, $metadata) after a single attempt", async () => {
    stub.override = () => ({ status: 503, error: 'ServiceUnavailableException', message: 'down' });
    const error = (await flush('g', 's', events).catch((e: unknown) => e)) as any;
    expect(error.name).toBe('ServiceUnavailableException');
    expect(error.$metadata).toMatchObject({ httpStatusCode: 503, attempts: 1 });
    expect(classifyError(error)).toBe('transient');
    stub.override = () => ({ error: 'InvalidParameterException', message: 'Log events in a single PutLogEvents request must be in chronological order.' });
    const invalid = await flush('g', 's', events).catch((e: unknown) => e);
    expect(classifyError(invalid)).toBe('invalid');
    expect(stub.requests).toHaveLength(2);
  });

  it("hands the FlushContext's signal to the SDK", async () => {
    stub.override = () => 'hang';
    const controller = new AbortController();
    const sent = flush('g', 's', events, undefined, { signal: controller.signal });
    await stub.waitForRequests(1);
    controller.abort();
    await expect(sent).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('an aborted signal also stops the create-missing path', async () => {
    stub.override = (r) => (r.op === 'CreateLogStream' ? 'hang' : undefined);
    const controller = new AbortController();
    const sent = flush('g', 'missing', events, undefined, { signal: controller.signal });
    await stub.waitForRequests(2);
    controller.abort();
    await expect(sent).rejects.toMatchObject({ name: 'AbortError' });
  });
});

describe('options', () => {
  it('uses a given service or client', async () => {
    stub.groups.set('g', { streams: new Map([['s', []]]) });
    const service = new LogEventsService({ clientConfig: stubClientConfig(stub.url) });
    const viaService = createCloudWatchFlushFunction({ service });
    expect(viaService.service).toBe(service);
    await viaService('g', 's', events);
    const client = userClient(stub.url);
    const viaClient = createCloudWatchFlushFunction({ client });
    expect(viaClient.service.client).toBe(client);
    await viaClient('g', 's', events);
    expect(stub.ops()).toEqual(['PutLogEvents', 'PutLogEvents']);
    service.destroy();
    client.destroy();
  });

  it('refuses contradictory or malformed options, naming them', () => {
    const client = userClient(stub.url);
    expect(() => createCloudWatchFlushFunction({ client, clientConfig: {} })).toThrow(/at most one of/);
    expect(() => createCloudWatchFlushFunction({ service: client as never })).toThrow(/`service`/);
    expect(() => createCloudWatchFlushFunction({ client, retentionInDays: 0 })).toThrow(/`retentionInDays`.*got 0/);
    expect(() => createCloudWatchFlushFunction({ client, createMissing: 'yes' as never })).toThrow(/`createMissing`/);
    client.destroy();
  });
});
