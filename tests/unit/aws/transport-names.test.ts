/**
 * TransportSink (what the pino and winston transports share): names evaluated per event, and the
 * group settings handed to the flush function (issue 17).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { TransportSink, type TransportFailure } from '../../../src/aws/transport.js';
import type { FlushFunction, InputLogEvent } from '../../../src/batch/types.js';
import { startStub, stubClientConfig, type Stub } from './stub-server.js';

const DAY = 86_400_000;
const T = Date.UTC(2026, 10, 26, 12);
const sinks: TransportSink[] = [];
let stub: Stub | undefined;

afterEach(async () => {
  for (const s of sinks.splice(0)) await s.stop(1_000);
  await stub?.close();
  stub = undefined;
});

function recording(): { flush: FlushFunction; calls: Array<{ group: string; stream: string; events: InputLogEvent[] }> } {
  const calls: Array<{ group: string; stream: string; events: InputLogEvent[] }> = [];
  return {
    calls,
    flush: async (group, stream, events) => {
      calls.push({ group, stream, events: events.map((e) => ({ ...e })) });
      return {};
    },
  };
}

function sink(options: Record<string, unknown>, flushFunction?: FlushFunction, failures: TransportFailure[] = []): TransportSink {
  const s = new TransportSink({ name: 'test', options, flushFunction, report: (f) => failures.push(f) });
  sinks.push(s);
  return s;
}

describe('TransportSink: names per event', () => {
  it('{date} follows each event’s own day: one stream per day, each holding exactly its events', async () => {
    const { flush, calls } = recording();
    const s = sink({ logGroupName: '/app', logStreamName: 'web-{date}' }, flush);
    expect(s.usesRecord).toBe(false);
    const times = [T, T + DAY, T - DAY, T, T + DAY + 1];
    for (const [i, t] of times.entries()) expect(s.tryAdd(t, `m${i}`)).toBe(true);
    await s.deliver(5_000);
    const byStream = new Map<string, string[]>();
    for (const c of calls) byStream.set(c.stream, [...(byStream.get(c.stream) ?? []), ...c.events.map((e) => e.message)]);
    expect(Object.fromEntries(byStream)).toEqual({
      'web-2026-11-25': ['m2'],
      'web-2026-11-26': ['m0', 'm3'],
      'web-2026-11-27': ['m1', 'm4'],
    });
    expect(s.logStreamName).toBe('web-{date}');
  });

  it('{field:...} and functions read the record handed to add()/tryAdd()', async () => {
    const { flush, calls } = recording();
    const s = sink(
      { logGroupName: '/app/{field:service|misc}', logStreamName: (event: InputLogEvent, record: unknown) => `${(record as { level?: string })?.level ?? 'none'}-${event.timestamp % 2}` },
      flush,
    );
    expect(s.usesRecord).toBe(true);
    s.tryAdd(T, 'a', { service: 'api', level: 'info' });
    await s.add(T + 1, 'b', { level: 'warn' });
    s.tryAdd(T, 'c');
    await s.deliver(5_000);
    expect(calls.map((c) => `${c.group} ${c.stream} ${c.events.map((e) => e.message).join(',')}`).sort()).toEqual([
      '/app/api info-0 a',
      '/app/misc none-0 c',
      '/app/misc warn-1 b',
    ]);
  });

  it('an event whose name is invalid is refused with InvalidNameError (reported by the transports as invalid); others go on', async () => {
    const { flush, calls } = recording();
    const failures: TransportFailure[] = [];
    const s = sink({ logGroupName: '/app', logStreamName: '{field:id}' }, flush, failures);
    let thrown: unknown;
    try {
      s.tryAdd(T, 'x', { id: 'y'.repeat(600) });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toMatchObject({ code: 'INVALID_NAME', field: 'logStreamName' });
    expect(s.notBuffered(thrown)).toMatchObject({ kind: 'dropped', reason: 'invalid', count: 1 });
    await expect(s.add(T, 'x', { id: 'z'.repeat(600) })).rejects.toMatchObject({ code: 'INVALID_NAME' });
    expect(s.tryAdd(T, 'ok', { id: 'fine' })).toBe(true);
    await s.deliver(5_000);
    expect(calls.map((c) => c.stream)).toEqual(['fine']);
  });

  it('refuses bad templates and group settings at construction, naming the option', () => {
    const { flush } = recording();
    expect(() => sink({ logGroupName: '/app', logStreamName: '{host}' }, flush)).toThrow(/Unknown placeholder `\{host\}`/);
    expect(() => sink({ logGroupName: '/app {date}', logStreamName: 's' }, flush)).toThrow(expect.objectContaining({ code: 'INVALID_NAME', field: 'logGroupName' }));
    expect(() => sink({ logStreamName: 's' }, flush)).toThrow(/`logGroupName`/);
    // Group settings are checked by the flush function the sink builds.
    expect(() => sink({ logGroupName: '/app', logStreamName: 's', logGroupClass: 'COLD', clientConfig: { region: 'us-east-1' } })).toThrow(/`logGroupClass`/);
    expect(() => sink({ logGroupName: '/app', logStreamName: 's', tags: { 'aws:x': '1' }, clientConfig: { region: 'us-east-1' } })).toThrow(/reserved/);
  });
});

describe('TransportSink: group settings', () => {
  it('creates a missing group with logGroupClass, kmsKeyId, tags and retentionInDays', async () => {
    stub = await startStub();
    const kmsKeyId = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    const s = sink({
      logGroupName: '/app',
      logStreamName: 's-{date}',
      clientConfig: stubClientConfig(stub.url),
      logGroupClass: 'INFREQUENT_ACCESS',
      kmsKeyId,
      tags: { team: 'core' },
      retentionInDays: 30,
    });
    const now = Date.now();
    s.tryAdd(now, 'hello');
    expect(await s.deliver(10_000)).toBe(0);
    expect(stub.requests.find((r) => r.op === 'CreateLogGroup')!.body).toEqual({
      logGroupName: '/app',
      logGroupClass: 'INFREQUENT_ACCESS',
      kmsKeyId,
      tags: { team: 'core' },
    });
    expect(stub.groups.get('/app')!.retentionInDays).toBe(30);
    expect([...stub.groups.get('/app')!.streams.keys()]).toEqual([`s-${new Date(now).toISOString().slice(0, 10)}`]);
  });
});
