/** CloudWatchLogRecordExporter without the SDK: hand-made records, a flush function of our own. */
import { describe, expect, it } from 'vitest';
import type { FlushFunction, InputLogEvent } from '../../../src/batch/types.js';
import { CloudWatchLogRecordExporter, type CloudWatchLogRecordExporterOptions, type ExportResult, type TransportFailure } from '../../../src/otel/index.js';
import { record } from './records.js';
import { tempDir } from '../../helpers/temp-dir.js';

interface Sent {
  group: string;
  stream: string;
  events: InputLogEvent[];
}

function setup(options: Partial<CloudWatchLogRecordExporterOptions> = {}, gate?: Promise<void>) {
  const sent: Sent[] = [];
  const failures: TransportFailure[] = [];
  const flushFunction: FlushFunction = async (group, stream, events) => {
    await gate;
    sent.push({ group, stream, events: [...events] });
    return {};
  };
  const exporter = new CloudWatchLogRecordExporter({
    logGroupName: '/otel/{service.name}',
    logStreamName: 'main',
    flushFunction,
    onFailure: (f) => failures.push(f),
    ...options,
  });
  const exportNow = (logs: unknown[]): Promise<ExportResult> => new Promise((resolve) => exporter.export(logs as never, resolve));
  return { exporter, sent, failures, exportNow, messages: () => sent.flatMap((s) => s.events.map((e) => e.message)) };
}

const now = Date.now();
const at = (ms: number): [number, number] => [Math.floor(ms / 1000), (ms % 1000) * 1_000_000];

describe('CloudWatchLogRecordExporter options', () => {
  it('refuses unknown and invalid options, naming them', () => {
    const base = { logGroupName: 'g', flushFunction: async () => ({}) };
    expect(() => new CloudWatchLogRecordExporter({ ...base, logGroup: 'x' } as never)).toThrow(/Unknown option `logGroup`/);
    expect(() => new CloudWatchLogRecordExporter({ ...base, logGroupName: 'bad name!' })).toThrow(expect.objectContaining({ code: 'INVALID_NAME' }));
    expect(() => new CloudWatchLogRecordExporter({ ...base, rawLog: 'yes' } as never)).toThrow(/`rawLog`/);
    expect(() => new CloudWatchLogRecordExporter({ ...base, maxEvents: 0 })).toThrow(/`maxEvents`/);
    expect(() => new CloudWatchLogRecordExporter({ ...base, clientConfig: {} })).toThrow(/at most one/);
    expect(() => new CloudWatchLogRecordExporter(null as never)).toThrow(TypeError);
  });
});

describe('CloudWatchLogRecordExporter', () => {
  it('calls back SUCCESS once buffered; shutdown() delivers, to the stream the resource names', async () => {
    const { exporter, sent, failures, exportNow } = setup({ flushIntervalMs: 600_000 });
    const result = await exportNow([record({ hrTime: at(now), body: 'a' }), record({ hrTime: at(now + 1), body: 'b' })]);
    expect(result.code).toBe(0);
    expect(sent).toEqual([]);
    await exporter.shutdown();
    expect(sent.map((s) => [s.group, s.stream, s.events.map((e) => e.timestamp)])).toEqual([['/otel/shop', 'main', [now, now + 1]]]);
    expect(failures).toEqual([]);
    expect(exporter.getMetrics()?.eventsDelivered).toBe(2);
  });

  it('forceFlush() resolves once delivered', async () => {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const { exporter, sent, exportNow } = setup({ flushIntervalMs: 600_000 }, gate);
    await exportNow([record({ hrTime: at(now), body: 'a' })]);
    let flushed = false;
    const flushing = exporter.forceFlush().then(() => (flushed = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(flushed).toBe(false);
    open();
    await flushing;
    expect(sent).toHaveLength(1);
    await exporter.shutdown();
  });

  it('reports FAILED only for records really lost, and buffers the others', async () => {
    const { exporter, failures, exportNow, messages } = setup();
    const circular: Record<string, unknown> = {};
    circular['self'] = circular;
    const result = await exportNow([record({ hrTime: at(now), body: 'ok' }), record({ hrTime: at(now), body: circular })]);
    expect(result.code).toBe(1);
    expect(result.error?.message).toMatch(/1 of 2 log record\(s\) not buffered/);
    expect(failures.map((f) => [f.kind, f.reason, f.count])).toEqual([['dropped', 'invalid', 1]]);
    await exporter.shutdown();
    expect(messages()).toHaveLength(1);
    const late = await exportNow([record()]);
    expect(late.code).toBe(1);
    expect(failures.at(-1)?.reason).toBe('shutdown');
  });

  it("under 'block', calls back once room is made, keeping the records of successive exports in order", async () => {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const { exporter, exportNow, messages } = setup({ maxBufferedBytes: 600, overflowPolicy: 'block', maxEvents: 2, flushIntervalMs: 1 }, gate);
    const body = 'x'.repeat(100);
    const codes: number[] = [];
    const first = exportNow(Array.from({ length: 6 }, (_, i) => record({ hrTime: at(now), body: `${body}${i}`, resource: { attributes: {} } }))).then((r) => codes.push(r.code));
    const second = exportNow([record({ hrTime: at(now), body: `${body}6`, resource: { attributes: {} } })]).then((r) => codes.push(r.code));
    await new Promise((resolve) => setImmediate(resolve));
    expect(codes).toEqual([]);
    open();
    await Promise.all([first, second]);
    expect(codes).toEqual([0, 0]);
    await exporter.shutdown();
    expect(messages().map((m) => (JSON.parse(m) as { body: string }).body.slice(100))).toEqual(['0', '1', '2', '3', '4', '5', '6']);
  });

  it('sends the records of another resource to their own group and stream, through the same buffer', async () => {
    const { exporter, sent, exportNow } = setup({ logStreamName: '{host.name|nohost}' });
    await exportNow([record({ hrTime: at(now), body: 'a' }), record({ hrTime: at(now), body: 'b', resource: { attributes: { 'service.name': 'billing', 'host.name': 'h2' } } })]);
    await exporter.shutdown();
    expect(sent.map((s) => `${s.group} ${s.stream}`).sort()).toEqual(['/otel/billing h2', '/otel/shop nohost']);
  });

  it('durable mode (spool): records go to disk before SUCCESS, and are delivered at shutdown', async () => {
    const dir = tempDir('cwbatch-otel-');
    const { exporter, exportNow, messages } = setup({ spool: { dir } });
    const results = await Promise.all([
      exportNow(Array.from({ length: 300 }, (_, i) => record({ hrTime: at(now), body: `a${i}` }))),
      exportNow([record({ hrTime: at(now), body: 'b' })]),
    ]);
    expect(results.map((r) => r.code)).toEqual([0, 0]);
    expect(exporter.getMetrics()?.eventsAccepted).toBe(301);
    await exporter.shutdown();
    expect(messages().map((m) => (JSON.parse(m) as { body: string }).body)).toEqual([...Array.from({ length: 300 }, (_, i) => `a${i}`), 'b']);
  });

  it('rawLog writes the body alone', async () => {
    const { exporter, exportNow, messages } = setup({ rawLog: true });
    await exportNow([record({ hrTime: at(now), body: '{"_aws":{}}' }), record({ hrTime: at(now), body: { a: 1 } })]);
    await exporter.shutdown();
    expect(messages()).toEqual(['{"_aws":{}}', '{"a":1}']);
  });
});

describe('CloudWatchLogRecordExporter during an outage', () => {
  it('after a forceFlush() that gave up, later ones return without waiting until the service delivers again', async () => {
    let calls = 0;
    const failures: TransportFailure[] = [];
    let healthy = false;
    const exporter = new CloudWatchLogRecordExporter({
      logGroupName: 'g',
      logStreamName: 's',
      shutdownTimeoutMs: 30,
      flushTimeoutMs: 10,
      retryBaseDelayMs: 1,
      retryMaxDelayMs: 2,
      maxRequeues: 1000,
      onFailure: (f) => failures.push(f),
      flushFunction: async () => {
        calls++;
        if (healthy) return {};
        throw Object.assign(new Error('down'), { name: 'ServiceUnavailableException', $metadata: { httpStatusCode: 503 } });
      },
    });
    const exportNow = (logs: unknown[]): Promise<ExportResult> => new Promise((resolve) => exporter.export(logs as never, resolve));
    expect((await exportNow([record({ hrTime: at(now) })])).code).toBe(0);
    await exporter.forceFlush(); // waits out its deadline: the service fails
    expect(failures.some((f) => f.kind === 'error' && /forceFlush/.test(f.message))).toBe(true);
    let turned = false;
    setImmediate(() => (turned = true));
    await exporter.forceFlush(); // returns at once: still failing
    expect(turned).toBe(false);
    healthy = true;
    await exporter.shutdown();
    expect(exporter.getMetrics()?.eventsDelivered).toBe(1);
    expect(calls).toBeGreaterThan(1);
  });
});
