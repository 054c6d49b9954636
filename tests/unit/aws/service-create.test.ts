/**
 * Creating missing groups and streams (issue 17): the group settings (class, KMS key, tags,
 * retention) in the requests, and throttled create calls retried with jittered back-off, through
 * the real SDK client against the stub on loopback.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LogEventsService, createCloudWatchFlushFunction, type CreateRetryOptions } from '../../../src/aws/index.js';
import { startStub, stubClientConfig, type Stub, type StubRequest } from './stub-server.js';

const KEY_ARN = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const THROTTLED = { error: 'ThrottlingException', message: 'Rate exceeded' } as const;

let stub: Stub;
const services: LogEventsService[] = [];

beforeEach(async () => {
  stub = await startStub();
});
afterEach(async () => {
  for (const s of services.splice(0)) s.destroy();
  await stub.close();
});

/** A service on the stub; its back-off sleeps are recorded and return at once (no real waiting). */
function service(options: Record<string, unknown> = {}, retry: CreateRetryOptions = {}): { service: LogEventsService; sleeps: number[] } {
  const sleeps: number[] = [];
  const s = new LogEventsService({
    clientConfig: stubClientConfig(stub.url),
    ...options,
    createRetry: {
      random: () => 0.5,
      sleep: async (ms) => {
        sleeps.push(ms);
      },
      ...retry,
    },
  });
  services.push(s);
  return { service: s, sleeps };
}

/** Answers the first `n` requests of `op` with `reply`, then lets the model answer. */
function failFirst(op: string, n: number, reply: Exclude<ReturnType<NonNullable<Stub['override']>>, undefined | 'hang'> = THROTTLED) {
  let seen = 0;
  return (r: StubRequest) => (r.op === op && seen++ < n ? reply : undefined);
}

describe('group settings', () => {
  it('sends logGroupClass, kmsKeyId and tags with CreateLogGroup, then the retention', async () => {
    const { service: s } = service({ logGroupClass: 'INFREQUENT_ACCESS', kmsKeyId: KEY_ARN, tags: { team: 'core' }, retentionInDays: 14 });
    await s.ensureLogGroup('g');
    expect(stub.ops()).toEqual(['CreateLogGroup', 'PutRetentionPolicy']);
    expect(stub.requests[0]!.body).toEqual({ logGroupName: 'g', logGroupClass: 'INFREQUENT_ACCESS', kmsKeyId: KEY_ARN, tags: { team: 'core' } });
    expect(stub.requests[1]!.body).toEqual({ logGroupName: 'g', retentionInDays: 14 });
    expect(s.groupDefaults).toEqual({ logGroupClass: 'INFREQUENT_ACCESS', kmsKeyId: KEY_ARN, tags: { team: 'core' }, retentionInDays: 14 });
  });

  it('sends nothing but the name when no setting is given', async () => {
    const { service: s } = service();
    await s.ensureDestination('g', 's');
    expect(stub.requests.find((r) => r.op === 'CreateLogGroup')!.body).toEqual({ logGroupName: 'g' });
  });

  it("a call's settings override the service's, field by field", async () => {
    const { service: s } = service({ logGroupClass: 'INFREQUENT_ACCESS', tags: { team: 'core' } });
    await s.ensureLogGroup('g', { tags: { team: 'web' }, retentionInDays: 1 });
    expect(stub.requests[0]!.body).toEqual({ logGroupName: 'g', logGroupClass: 'INFREQUENT_ACCESS', tags: { team: 'web' } });
    expect(() => s.ensureLogGroup('h', { logGroupClass: 'COLD' as 'STANDARD' })).toThrow(/`logGroupClass`/);
  });

  it('the flush function creates a missing group with its settings, also through a service of the caller’s', async () => {
    const { service: shared } = service({ tags: { team: 'core' } });
    const flush = createCloudWatchFlushFunction({ service: shared, logGroupClass: 'INFREQUENT_ACCESS', retentionInDays: 7 });
    await flush('g', 's', [{ timestamp: 1_700_000_000_000, message: 'x' }]);
    expect(stub.requests.find((r) => r.op === 'CreateLogGroup')!.body).toEqual({
      logGroupName: 'g',
      logGroupClass: 'INFREQUENT_ACCESS',
      tags: { team: 'core' },
    });
    expect(stub.groups.get('g')!.retentionInDays).toBe(7);
  });

  it('refuses bad settings at construction, naming the option', () => {
    const config = stubClientConfig(stub.url);
    expect(() => new LogEventsService({ clientConfig: config, logGroupClass: 'standard' as 'STANDARD' })).toThrow(/`logGroupClass`/);
    expect(() => new LogEventsService({ clientConfig: config, kmsKeyId: 'my-key' })).toThrow(/`kmsKeyId`/);
    expect(() => new LogEventsService({ clientConfig: config, tags: { 'aws:x': 'y' } })).toThrow(/reserved/);
    expect(() => new LogEventsService({ clientConfig: config, retentionInDays: 2 })).toThrow(/`retentionInDays`/);
    expect(() => createCloudWatchFlushFunction({ clientConfig: config, tags: { k: 'a;b' } })).toThrow(/`tags.k`/);
    expect(() => new LogEventsService({ clientConfig: config, createRetry: { maxAttempts: 0 } })).toThrow(/`createRetry.maxAttempts`/);
    expect(() => new LogEventsService({ clientConfig: config, createRetry: { baseDelayMs: -1 } })).toThrow(/`createRetry.baseDelayMs`/);
    expect(() => new LogEventsService({ clientConfig: config, createRetry: { random: 1 as unknown as () => number } })).toThrow(/`createRetry.random`/);
  });
});

describe('throttled create calls', () => {
  it('retries a throttled CreateLogStream with full-jitter exponential back-off (injected random)', async () => {
    stub.groups.set('g', { streams: new Map() });
    stub.override = failFirst('CreateLogStream', 3);
    const { service: s, sleeps } = service();
    await s.ensureLogStream('g', 's');
    expect(stub.ops()).toEqual(['CreateLogStream', 'CreateLogStream', 'CreateLogStream', 'CreateLogStream']);
    // random 0.5 of min(5000, 200 * 2^(n-1)).
    expect(sleeps).toEqual([100, 200, 400]);
    expect(stub.groups.get('g')!.streams.has('s')).toBe(true);
  });

  it('the jitter comes from the injected random source and is capped by maxDelayMs', async () => {
    stub.groups.set('g', { streams: new Map() });
    stub.override = failFirst('CreateLogStream', 4);
    const draws = [0.9, 0.1, 0.99, 0.5];
    const { service: s, sleeps } = service({}, { random: () => draws.shift()!, baseDelayMs: 1_000, maxDelayMs: 3_000 });
    await s.ensureLogStream('g', 's');
    expect(sleeps).toEqual([900, 200, 2_970, 1_500]);
  });

  it('retries a throttled CreateLogGroup and PutRetentionPolicy (and 5xx, OperationAbortedException)', async () => {
    let n = 0;
    const replies = [THROTTLED, { status: 503, error: 'ServiceUnavailableException' }, { error: 'OperationAbortedException', message: 'conflict' }];
    stub.override = (r) => (r.op === 'CreateLogGroup' && n < replies.length ? replies[n++] : undefined);
    const { service: s } = service({ retentionInDays: 7 });
    const retention = failFirst('PutRetentionPolicy', 1);
    const groupFails = stub.override;
    stub.override = (r) => groupFails(r) ?? retention(r);
    await s.ensureDestination('g', 's');
    expect(stub.ops()).toEqual([
      'CreateLogStream', // ResourceNotFound: the group is missing
      'CreateLogGroup',
      'CreateLogGroup',
      'CreateLogGroup',
      'CreateLogGroup',
      'PutRetentionPolicy',
      'PutRetentionPolicy',
      'CreateLogStream',
    ]);
    expect(stub.groups.get('g')!.retentionInDays).toBe(7);
  });

  it('"already exists" after a throttled attempt is success', async () => {
    stub.groups.set('g', { streams: new Map() });
    // The first attempt was stored, but its answer was throttling (or lost): the retry finds the stream.
    stub.override = (r) => {
      if (r.op === 'CreateLogStream' && stub.requests.length === 1) {
        stub.groups.get('g')!.streams.set('s', []);
        return THROTTLED;
      }
      return undefined;
    };
    const { service: s } = service();
    await s.ensureLogStream('g', 's');
    expect(stub.ops()).toEqual(['CreateLogStream', 'CreateLogStream']);
  });

  it('does not retry what is not throttling or transient', async () => {
    stub.groups.set('g', { streams: new Map() });
    stub.override = failFirst('CreateLogStream', 1, { error: 'AccessDeniedException', message: 'no' });
    const { service: s, sleeps } = service();
    await expect(s.ensureLogStream('g', 's')).rejects.toMatchObject({ name: 'AccessDeniedException' });
    expect(stub.ops()).toEqual(['CreateLogStream']);
    expect(sleeps).toEqual([]);
  });

  it('throws the throttling error after maxAttempts, uncached: the next call tries again', async () => {
    stub.groups.set('g', { streams: new Map() });
    stub.override = failFirst('CreateLogStream', 3);
    const { service: s } = service({}, { maxAttempts: 3 });
    await expect(s.ensureLogStream('g', 's')).rejects.toMatchObject({ name: 'ThrottlingException' });
    expect(stub.ops()).toHaveLength(3);
    await s.ensureLogStream('g', 's');
    expect(stub.ops()).toHaveLength(4);
  });

  it('stops retrying when the signal aborts during the back-off', async () => {
    stub.groups.set('g', { streams: new Map() });
    stub.override = failFirst('CreateLogStream', 10);
    const controller = new AbortController();
    const { service: s } = service({}, { sleep: async () => controller.abort() });
    await expect(s.ensureLogStream('g', 's', { signal: controller.signal })).rejects.toMatchObject({ name: 'ThrottlingException' });
    expect(stub.ops()).toEqual(['CreateLogStream']);
  });

  it('the default back-off waits on a real timer (base 0 here: no waiting)', async () => {
    stub.groups.set('g', { streams: new Map() });
    stub.override = failFirst('CreateLogStream', 2);
    const s = new LogEventsService({ clientConfig: stubClientConfig(stub.url), createRetry: { baseDelayMs: 0 } });
    services.push(s);
    await s.ensureLogStream('g', 's');
    expect(stub.ops()).toHaveLength(3);
  });
});
