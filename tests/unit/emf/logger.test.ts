/** EmfSink and MetricsLogger with a flush function of our own (and the stub service for the header). */
import { describe, expect, it } from 'vitest';
import type { FlushFunction, InputLogEvent } from '../../../src/batch/types.js';
import { EmfSink, type EmfSinkOptions, type TransportFailure } from '../../../src/emf/index.js';
import { startStub } from '../aws/stub-server.js';
import { emfProblems } from './validate.js';
import { clientConfig } from '../../helpers/client.js';

const T = Date.now();

function setup(options: Partial<EmfSinkOptions> = {}) {
  const sent: InputLogEvent[] = [];
  const failures: TransportFailure[] = [];
  const flushFunction: FlushFunction = async (_g, _s, events) => {
    sent.push(...events);
    return {};
  };
  const sink = new EmfSink({ logGroupName: '/metrics', logStreamName: 'm', namespace: 'Shop', flushFunction, onFailure: (f) => failures.push(f), now: () => T, ...options });
  return { sink, sent, failures, docs: () => sent.map((e) => JSON.parse(e.message) as Record<string, any>) };
}

describe('EmfSink options', () => {
  it('refuses bad options, naming them', () => {
    const base = { logGroupName: 'g', logStreamName: 's', namespace: 'N', flushFunction: async () => ({}) };
    expect(() => new EmfSink({ ...base, namespace: '' })).toThrow(/`namespace`/);
    expect(() => new EmfSink({ ...base, namespace: 'a\nb' })).toThrow(/line break/);
    expect(() => new EmfSink({ ...base, dimensions: { A: 1 as unknown as string } })).toThrow(/dimension `A`/);
    expect(() => new EmfSink({ ...base, bogus: 1 } as never)).toThrow(/Unknown option `bogus`/);
    expect(() => new EmfSink({ ...base, clientConfig: {} })).toThrow(/at most one/);
  });
});

describe('MetricsLogger', () => {
  it('writes one line per flush, keeps namespace, dimensions and properties, clears metrics', async () => {
    const { sink, docs } = setup({ dimensions: { Service: 'api' } });
    const m = sink.logger();
    m.putDimensions({ Service: 'api', Op: 'get' }).putMetric('Latency', 12, 'Milliseconds').putMetric('Latency', 13).setProperty('requestId', 'r1');
    expect(m.flush()).toBe(1);
    expect(m.flush()).toBe(0);
    m.putMetric('Hits', 1, 'Count', 1);
    m.setTimestamp(T - 1000);
    expect(m.flush()).toBe(1);
    await sink.close();
    // The batch is sent in timestamp order: the later-flushed line is earlier.
    const [b, a] = docs();
    expect(a!['_aws']).toEqual({
      Timestamp: T,
      CloudWatchMetrics: [{ Namespace: 'Shop', Dimensions: [['Service'], ['Service', 'Op']], Metrics: [{ Name: 'Latency', Unit: 'Milliseconds' }] }],
    });
    expect(a!['Latency']).toEqual([12, 13]);
    expect(b!['_aws'].Timestamp).toBe(T - 1000);
    expect(b!['requestId']).toBe('r1');
    expect(b!['Hits']).toBe(1);
    expect(b!).not.toHaveProperty('Latency');
    for (const doc of docs()) expect(emfProblems(JSON.stringify(doc))).toEqual([]);
  });

  it('splits beyond 100 metrics and 100 values, every line valid', async () => {
    const { sink, sent } = setup();
    const m = sink.logger();
    for (let i = 0; i < 250; i++) m.putMetric(`m${i}`, i);
    for (let v = 0; v < 230; v++) m.putMetric('m0', v);
    const written = m.flush();
    await sink.close();
    // m0 has 231 values: rounds of 100, 100, 31; 250 metrics in the first round: 3 lines.
    expect(written).toBe(5);
    expect(sent).toHaveLength(5);
    for (const e of sent) expect(emfProblems(e.message)).toEqual([]);
  });

  it('refuses what would make an invalid line, naming it', () => {
    const m = setup().sink.logger();
    expect(() => m.putMetric('x', Number.NaN)).toThrow(/finite number/);
    expect(() => m.putMetric('x', 1, 'Furlongs' as never)).toThrow(/Unknown unit `Furlongs`/);
    expect(() => m.putMetric('x', 1, undefined, 5 as never)).toThrow(/1 or 60/);
    m.putMetric('x', 1, 'Count', 60);
    expect(() => m.putMetric('x', 1, 'Count', 1)).toThrow(/resolution 60/);
    expect(() => m.putMetric('x', 1, 'Bytes')).toThrow(/unit Count/);
    expect(() => m.putMetric('', 1)).toThrow(RangeError);
    expect(() => m.putDimensions({ x: 'a' })).toThrow(/name of a metric/);
    const many = Object.fromEntries(Array.from({ length: 31 }, (_, i) => [`d${i}`, 'v']));
    expect(() => m.putDimensions(many)).toThrow(/at most 30 dimensions/);
    m.putDimensions({ D: 'v' });
    expect(() => m.putMetric('D', 1)).toThrow(/dimension/);
  });

  it('a line over maxEventBytes is dropped and reported, never cut', async () => {
    const { sink, sent, failures } = setup({ maxEventBytes: 262_144 });
    const m = sink.logger().setProperty('big', 'x'.repeat(300_000));
    m.putMetric('a', 1);
    m.flush();
    await sink.close();
    expect(sent).toEqual([]);
    expect(failures.map((f) => [f.kind, f.reason, f.count])).toEqual([['dropped', 'oversized', 1]]);
  });

  it('lines written after close() are reported lost', async () => {
    const { sink, failures } = setup();
    await sink.close();
    const m = sink.logger().putMetric('a', 1);
    expect(m.flush()).toBe(0);
    expect(failures.map((f) => f.reason)).toEqual(['shutdown']);
  });

  it('sends x-amzn-logs-format: json/emf on PutLogEvents with the client it builds', async () => {
    const stub = await startStub();
    try {
      const sink = new EmfSink({
        logGroupName: '/metrics',
        logStreamName: 'h',
        namespace: 'N',
        clientConfig: clientConfig(stub.url),
      });
      sink.logger().putMetric('a', 1).flush();
      await sink.close();
      const puts = stub.requests.filter((r) => r.op === 'PutLogEvents');
      expect(puts.length).toBeGreaterThan(0);
      for (const r of puts) expect(r.headers['x-amzn-logs-format']).toBe('json/emf');
      for (const r of stub.requests.filter((q) => q.op !== 'PutLogEvents')) expect(r.headers['x-amzn-logs-format']).toBeUndefined();
    } finally {
      await stub.close();
    }
  });
});

describe('EmfSink back-pressure', () => {
  it("room() resolves once lines that waited for room under 'block' are buffered, in order", async () => {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const sent: InputLogEvent[] = [];
    const sink = new EmfSink({
      logGroupName: 'g',
      logStreamName: 's',
      namespace: 'N',
      maxBufferedBytes: 2_000,
      maxEvents: 2,
      flushIntervalMs: 1,
      now: () => T,
      flushFunction: async (_g, _s, events) => {
        await gate;
        sent.push(...events);
        return {};
      },
    });
    const m = sink.logger();
    for (let i = 0; i < 40; i++) m.putMetric('v', i).flush();
    expect(sink.waiting).toBeGreaterThan(0);
    let roomy = false;
    const room = sink.room().then(() => (roomy = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(roomy).toBe(false);
    open();
    await room;
    expect(sink.waiting).toBe(0);
    await sink.close();
    expect(sent.map((e) => (JSON.parse(e.message) as { v: number }).v)).toEqual(Array.from({ length: 40 }, (_, i) => i));
  });
});
