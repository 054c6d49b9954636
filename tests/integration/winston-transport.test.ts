/**
 * cwbatch/winston with real winston against the embedded endpoint: in this process for cases
 * 1-4 and 6 (logger.end() + 'finish' must mean delivered), in child processes for the exit cases
 * (they run the built package: `npm run build` first).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import winston from 'winston';
import { startLocalEndpoint, type LocalEndpoint } from '../../src/local/index.js';
import { CloudWatchTransport, type WinstonTransportOptions } from '../../src/winston/index.js';
import type { DeliveryWarning } from '../../src/aws/transport.js';
import { assertBuilt, byId, countingProxy, cwbatchLines, readRecords, runChild, runLambda } from '../fixtures/transports/helpers.js';
import { clientConfig } from '../helpers/client.js';
import { tempDir } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/wait-for.js';
// @ts-expect-error -- plain JS fixture shared with the child processes (no declaration file)
import { FAST_RETRIES, makeRecords } from '../fixtures/transports/scenarios.mjs';

type Rec = { id: number; time: number; msg: string };
const records = makeRecords as (name: string, now: number) => Rec[];
const GROUP = '/cwbatch/winston-test';
const MESSAGE = Symbol.for('message');

let endpoint: LocalEndpoint;
let counter = 0;

beforeAll(async () => {
  endpoint = await startLocalEndpoint({ port: 0 });
});
afterAll(async () => {
  await endpoint.close();
});
afterEach(() => endpoint.setFaults({}));

interface Logged {
  stream: string;
  now: number;
  transport: CloudWatchTransport;
  warnings: DeliveryWarning[];
  logger: winston.Logger;
}

/** Logs a scenario through a real winston logger; `iso` writes info.timestamp as an ISO string. */
function logScenario(scenario: string, options: Partial<WinstonTransportOptions> = {}, url?: string, iso = false): Logged {
  const stream = `${scenario}-${++counter}`;
  const now = Date.now();
  const transport = new CloudWatchTransport({
    logGroupName: GROUP,
    logStreamName: stream,
    clientConfig: clientConfig(url ?? endpoint.url),
    flushOnExit: false,
    ...FAST_RETRIES,
    ...options,
  });
  const logger = winston.createLogger({ format: winston.format.json(), transports: [transport] });
  const warnings: DeliveryWarning[] = [];
  logger.on('warn', (w: DeliveryWarning) => warnings.push(w));
  for (const rec of records(scenario, now)) {
    logger.info(rec.msg, { id: rec.id, timestamp: iso ? new Date(rec.time).toISOString() : rec.time });
  }
  return { stream, now, transport, warnings, logger };
}

/** A transport whose sink takes a batch only once `open()` is called; `delivered` lists the ids stored, in order. */
function gated(options: Partial<WinstonTransportOptions> = {}): {
  transport: CloudWatchTransport;
  delivered: number[];
  open: () => void;
  /** Resolves once the sink's first call waits at the gate (the buffer sent what it could). */
  reached: Promise<void>;
} {
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  let reach!: () => void;
  const reached = new Promise<void>((resolve) => (reach = resolve));
  const delivered: number[] = [];
  const transport = new CloudWatchTransport({
    logGroupName: GROUP,
    logStreamName: `gated-${++counter}`,
    flushOnExit: false,
    flushFunction: async (_group, _stream, events) => {
      reach();
      await gate;
      for (const e of events) delivered.push((JSON.parse(e.message) as { id: number }).id);
    },
    ...options,
  });
  return { transport, delivered, open, reached };
}

/** Resolves the next time `target[method]` is called (it still runs as before). */
function calledOnce<T extends object>(target: T, method: keyof T & string): Promise<void> {
  return new Promise((resolve) => {
    const original = target[method] as (...args: unknown[]) => unknown;
    Object.defineProperty(target, method, {
      configurable: true,
      writable: true,
      value(this: T, ...args: unknown[]): unknown {
        delete (target as Record<string, unknown>)[method]; // the prototype's again
        resolve();
        return original.apply(this, args);
      },
    });
  });
}

/** logger.end(), then the logger's 'finish'. */
function endAndFinish(logger: winston.Logger): Promise<void> {
  return new Promise((resolve) => {
    logger.on('finish', () => resolve());
    logger.end();
  });
}

function expectAllStored(stream: string, scenario: string, now: number): void {
  const expected = records(scenario, now);
  const stored = byId(readRecords(endpoint, GROUP, stream), expected.length);
  for (const rec of expected) {
    const got = stored.get(rec.id)!;
    expect(got.timestamp).toBe(rec.time);
    expect(got.json['message']).toBe(rec.msg);
  }
}

/** Everything counted as delivered, nothing rejected, dropped or left. */
function expectCleanMetrics(transport: CloudWatchTransport, count: number): void {
  const m = transport.getMetrics();
  expect(m.eventsDelivered).toBe(m.eventsAccepted);
  expect(m.eventsAccepted).toBeGreaterThanOrEqual(count);
  expect(m.eventsRejected + m.eventsDropped + m.eventsBuffered + m.eventsInFlight).toBe(0);
}

describe('cwbatch/winston', () => {
  it('1. 100,000 records, then logger.end() and its finish: every record stored once, with its own timestamp, at finish', async () => {
    const { stream, now, transport, warnings, logger } = logScenario('bulk');
    await endAndFinish(logger);
    // 'finish' means delivered: no polling needed.
    expect(endpoint.store.eventCount(GROUP, stream)).toBe(100_000);
    expectAllStored(stream, 'bulk', now);
    expectCleanMetrics(transport, 100_000);
    expect(warnings).toEqual([]);
  });

  it('2. a 300 KB and a 1.5 MB record among 100 small ones: all delivered, the 1.5 MB one split', async () => {
    const { stream, now, transport, warnings, logger } = logScenario('large');
    await endAndFinish(logger);
    expectAllStored(stream, 'large', now);
    const parts = new Map(readRecords(endpoint, GROUP, stream).map((s) => [s.json['id'] as number, s.parts]));
    expect(parts.get(30)).toBe(1);
    expect(parts.get(70)).toBe(2);
    expect(transport.getMetrics().eventsSplit).toBe(1);
    expect(warnings).toEqual([]);
  });

  it('3. records spanning 30 hours, out of order, with ISO timestamps: all delivered', async () => {
    const { stream, now, transport, warnings, logger } = logScenario('span', {}, undefined, true);
    await endAndFinish(logger);
    expectAllStored(stream, 'span', now);
    expectCleanMetrics(transport, 3_000);
    expect(warnings).toEqual([]);
  });

  for (const throttleRate of [0.3, 0.7]) {
    it(`4. ${throttleRate * 100}% of PutLogEvents throttled: nothing lost`, async () => {
      endpoint.setFaults({ throttleRate });
      const before = endpoint.stats().faults.throttledByRate;
      const { stream, now, transport, logger } = logScenario('throttle', { maxEvents: 500 });
      await endAndFinish(logger);
      expectAllStored(stream, 'throttle', now);
      expectCleanMetrics(transport, 20_000);
      expect(endpoint.stats().faults.throttledByRate - before).toBeGreaterThan(5);
      expect(transport.getMetrics().retries).toBeGreaterThan(0);
    });
  }

  it('back-pressure: 2.6 MB through a 64 KiB buffer (overflowPolicy block) against a slow endpoint: nothing dropped', async () => {
    endpoint.setFaults({ latencyMs: 10 });
    const { stream, now, transport, warnings, logger } = logScenario('throttle', { maxEvents: 500, maxBufferedBytes: 64 * 1024 });
    await endAndFinish(logger);
    expectAllStored(stream, 'throttle', now);
    expectCleanMetrics(transport, 20_000);
    expect(warnings).toEqual([]);
  });

  it("a full buffer against a slow sink, then logger.end(): no \"write after end\", 'finish' means every record stored, in order", async () => {
    // The sink takes a batch only when the test opens the gate: the buffer stays full while
    // winston ends its transports.
    const { transport, delivered, open } = gated({ maxBufferedBytes: 8 * 1024 });
    const logger = winston.createLogger({ format: winston.format.json(), transports: [transport] });
    const errors: unknown[] = [];
    const warnings: DeliveryWarning[] = [];
    logger.on('error', (e) => errors.push(e));
    transport.on('error', (e) => errors.push(e));
    logger.on('warn', (w: DeliveryWarning) => warnings.push(w));
    const logged: number[] = [];
    transport.on('logged', (info: { id: number }) => logged.push(info.id));
    // Fill the buffer, then the transport's stream buffer, until a few records wait in the
    // logger's own queue (its readable side): the ones winston used to write after end().
    let count = 0;
    while (logger.readableLength < 5) logger.info(`record ${count} ${'x'.repeat(80)}`, { id: count++ });
    expect(logger.writableLength).toBe(0);
    expect(transport.writableLength).toBeGreaterThan(0);
    const ended = calledOnce(transport, 'end');
    const finished = endAndFinish(logger);
    await ended; // the logger's _final has ended its transports, with records still in its queue
    expect(logger.readableLength).toBeGreaterThan(0);
    // Held back until they are in (winston-transport's readable-stream 3 has no writableEnded).
    expect((transport as unknown as { _writableState: { ending: boolean } })._writableState.ending).toBe(false);
    expect(errors).toEqual([]);
    open();
    await finished;
    expect(errors).toEqual([]);
    expect(warnings).toEqual([]);
    const all = Array.from({ length: count }, (_, i) => i);
    // Stored in the order logged, and 'logged' in that order: no record accepted at once
    // overtook one that had to wait.
    expect(delivered).toEqual(all);
    expect(logged).toEqual(all);
    expectCleanMetrics(transport, count);
  });

  it('6. multibyte text (CJK, emoji) filling many batches: no batch rejected', async () => {
    const proxy = await countingProxy(endpoint.url);
    try {
      const { stream, now, transport, warnings, logger } = logScenario('multibyte', {}, proxy.url);
      await endAndFinish(logger);
      expectAllStored(stream, 'multibyte', now);
      expectCleanMetrics(transport, 3_000);
      const puts = proxy.statuses.get('PutLogEvents') ?? [];
      expect(puts.length).toBeGreaterThanOrEqual(10);
      // The one error allowed: the stream does not exist yet at the first request (createMissing).
      expect((proxy.errors.get('PutLogEvents') ?? []).filter((t) => t !== 'ResourceNotFoundException')).toEqual([]);
      expect(puts.filter((s) => s !== 200).length).toBeLessThanOrEqual(1);
      expect(warnings).toEqual([]);
    } finally {
      await proxy.close();
    }
  });

  it("log(info, next) emits 'logged'; flush() delivers and keeps the transport open; failures are 'warn', never 'error'", async () => {
    const stream = `api-${++counter}`;
    const transport = new CloudWatchTransport({
      logGroupName: GROUP,
      logStreamName: stream,
      clientConfig: clientConfig(endpoint.url),
      flushOnExit: false,
      ...FAST_RETRIES,
    });
    const logger = winston.createLogger({ format: winston.format.json(), transports: [transport] });
    const logged: unknown[] = [];
    const errors: unknown[] = [];
    const warnings: DeliveryWarning[] = [];
    transport.on('logged', (info) => logged.push(info));
    logger.on('error', (e) => errors.push(e));
    logger.on('warn', (w: DeliveryWarning) => warnings.push(w));
    logger.info('first');
    expect(await transport.flush()).toBe(0);
    expect(endpoint.store.eventCount(GROUP, stream)).toBe(1);
    expect(logged).toHaveLength(1);
    logger.info('second');
    expect(await transport.flush()).toBe(0);
    expect(endpoint.store.eventCount(GROUP, stream)).toBe(2);
    // A record 15 days old: the service refuses it, the transport says so as a 'warn'.
    logger.info('too old', { timestamp: Date.now() - 15 * 86_400_000 });
    expect(await transport.flush()).toBe(0);
    expect(warnings.map((w) => [w.code, w.kind, w.reason, w.count])).toEqual([['DELIVERY_WARNING', 'rejected', 'too-old', 1]]);
    await endAndFinish(logger);
    expect(errors).toEqual([]);
  });

  it("an unreachable endpoint: 'warn' with the cause, the logger still finishes (within shutdownTimeoutMs)", async () => {
    const { logger, warnings } = logScenario('exit', { shutdownTimeoutMs: 500 }, 'http://127.0.0.1:9');
    const started = Date.now();
    await endAndFinish(logger);
    expect(Date.now() - started).toBeLessThan(5_000);
    const dropped = warnings.filter((w) => w.kind === 'dropped');
    expect(dropped.reduce((n, w) => n + w.count, 0)).toBe(5_000);
    // The SDK was still retrying the refused connection at the deadline: not delivered, or outcome unknown.
    expect(['shutdown', 'unknown']).toContain(dropped[0]?.reason);
    expect(dropped[0]?.message).toMatch(/last error/);
  });

  it("the README Lambda recipe: each invocation's records are stored when the handler returns (process frozen, then killed)", async () => {
    assertBuilt();
    const group = '/cwbatch/winston-lambda';
    const r = await runLambda('lambda-winston.mjs', endpoint, group, 3, 1_000);
    expect(r.countsAtReturn, r.stderr).toEqual([1_000, 2_000, 3_000]);
    expect(r.signal).toBe('SIGKILL');
  });

  describe('logv (records winston-transport batches from its stream buffer)', () => {
    /** A record as winston hands it over: the formatted line under Symbol.for('message'). */
    const rec = (id: number, pad = 0): { chunk: Record<string | symbol, unknown> } => ({
      chunk: { level: 'info', message: `m${id}`, id, [MESSAGE]: JSON.stringify({ id, pad: 'x'.repeat(pad) }) },
    });
    it("a batch the buffer has room for: taken in order, 'logged' for each, next() once and at once", async () => {
      const { transport, delivered, open } = gated();
      const logged: number[] = [];
      transport.on('logged', (info: { id: number }) => logged.push(info.id));
      let nexts = 0;
      transport.logv([rec(1), rec(2), rec(3)], () => nexts++);
      expect(nexts).toBe(1);
      expect(logged).toEqual([1, 2, 3]);
      expect(transport.getMetrics().eventsAccepted).toBe(3);
      open();
      await transport.stop();
      expect(delivered).toEqual([1, 2, 3]);
    });

    it("a batch larger than the room left under 'block': next() only once every record is accepted, order kept", async () => {
      const { transport, delivered, open, reached } = gated({ maxBufferedBytes: 2_048 });
      const batch = Array.from({ length: 12 }, (_, i) => rec(i, 400)); // ~5.5 KB: does not fit
      let nexts = 0;
      transport.logv(batch, () => nexts++);
      const accepted = transport.getMetrics().eventsAccepted;
      expect(accepted).toBeGreaterThan(0);
      expect(accepted).toBeLessThan(12);
      // The buffer sent what it had and waits on the sink; nothing else will make room.
      await reached;
      await new Promise((resolve) => setImmediate(resolve));
      expect(transport.getMetrics().eventsAccepted).toBe(accepted);
      expect(nexts).toBe(0); // winston's stream keeps its back-pressure
      open();
      await waitFor(() => nexts === 1, 'next() after the gate opened', 5_000);
      expect(transport.getMetrics().eventsAccepted).toBe(12);
      await transport.stop();
      expect(nexts).toBe(1);
      expect(delivered).toEqual(batch.map((_, i) => i));
    });

    it('durable mode: every record of the batch goes to add() at once, so the batch shares one write to the spool', async () => {
      const dir = tempDir('cwbatch-winston-spool-');
      const { transport, delivered, open } = gated({ spool: { dir } });
      const batch = Array.from({ length: 50 }, (_, i) => rec(i));
      let nexts = 0;
      transport.logv(batch, () => nexts++);
      // All 50 taken in this run of code (written by one commit), not one per turn of a chain.
      expect(transport.getMetrics().eventsAccepted).toBe(50);
      expect(nexts).toBe(0); // the commit (a process.nextTick) has not written them yet
      await new Promise((resolve) => setImmediate(resolve));
      expect(nexts).toBe(1);
      open();
      await transport.stop();
      expect(delivered).toEqual(batch.map((_, i) => i));
    });

    it("applies the transport's own format (winston-transport does not before logv): filtered records skipped, a throw ends the batch", async () => {
      const { transport, delivered, open } = gated({
        format: winston.format((info) => {
          if (info['id'] === 2) return false;
          if (info['id'] === 4) throw new Error('format failed');
          return Object.assign(info, { [MESSAGE]: JSON.stringify({ id: (info['id'] as number) * 10 }) });
        })(),
      });
      let nexts = 0;
      expect(() => transport.logv([rec(1), rec(2), rec(3), rec(4), rec(5)], () => nexts++)).toThrow('format failed');
      expect(nexts).toBe(1);
      open();
      await transport.stop();
      expect(delivered).toEqual([10, 30]);
    });

    it('through a real logger: records queued behind a full buffer reach the transport by logv, all stored in order', async () => {
      const { transport, delivered, open } = gated({ maxBufferedBytes: 8 * 1024 });
      const batches: number[] = [];
      const logv = transport.logv.bind(transport);
      transport.logv = (writes, next) => {
        batches.push(writes.length);
        logv(writes, next);
      };
      const logger = winston.createLogger({ format: winston.format.json(), transports: [transport] });
      for (let i = 0; i < 500; i++) logger.info(`record ${i} ${'x'.repeat(80)}`, { id: i });
      const finished = endAndFinish(logger);
      open();
      await finished;
      expect(batches.length).toBeGreaterThan(0);
      expect(batches.every((n) => n > 1)).toBe(true);
      expect(delivered).toEqual(Array.from({ length: 500 }, (_, i) => i));
      expectCleanMetrics(transport, 500);
    });
  });

  describe('write() shortcut (a record the buffer takes at once never enters the stream)', () => {
    /** Counts the records that went through the stream (winston-transport's _write, or a batch to logv). */
    function countWrites(transport: CloudWatchTransport): { count: number } {
      const seen = { count: 0 };
      const write = transport._write.bind(transport);
      transport._write = (chunk, encoding, callback) => {
        seen.count++;
        write(chunk, encoding, callback);
      };
      const logv = transport.logv.bind(transport);
      transport.logv = (writes, next) => {
        seen.count += writes.length;
        logv(writes, next);
      };
      return seen;
    }

    it("plain records: taken directly, 'logged' each, in order; the level filter still applies", async () => {
      const { transport, delivered, open } = gated({ level: 'warn' });
      const writes = countWrites(transport);
      const logged: number[] = [];
      transport.on('logged', (info: { id: number }) => logged.push(info.id));
      const logger = winston.createLogger({ level: 'debug', format: winston.format.json(), transports: [transport] });
      logger.warn('a', { id: 1 });
      logger.info('filtered out by the transport level', { id: 2 });
      logger.error('b', { id: 3 });
      logger.debug('filtered out by the transport level', { id: 4 });
      expect(logged).toEqual([1, 3]);
      expect(transport.getMetrics().eventsAccepted).toBe(2);
      expect(writes.count).toBe(2); // the two filtered records, which the stream dropped
      open();
      await endAndFinish(logger);
      expect(delivered).toEqual([1, 3]);
    });

    it('a transport format, silent, an exception record, a corked stream: through the stream, as before', async () => {
      const formatted = gated({
        format: winston.format((info) => Object.assign(info, { [MESSAGE]: JSON.stringify({ id: (info['id'] as number) * 10 }) }))(),
      });
      const silent = gated({ silent: true });
      const corked = gated();
      const writes = [formatted, silent, corked].map(({ transport }) => countWrites(transport));
      const logger = winston.createLogger({ format: winston.format.json(), transports: [formatted.transport, silent.transport, corked.transport] });
      corked.transport.cork();
      logger.info('one', { id: 1 });
      logger.info('two', { id: 2 });
      logger.info('an exception record: only for handleExceptions transports', { id: 3, exception: true });
      expect(corked.transport.getMetrics().eventsAccepted).toBe(0);
      expect(corked.transport.writableLength).toBe(3);
      corked.transport.uncork();
      for (const t of [formatted, silent, corked]) t.open();
      await endAndFinish(logger);
      // Corked, the three waited in the stream; on uncork winston-transport filtered out the
      // exception record and handed the other two to logv in one batch.
      expect(writes.map((w) => w.count)).toEqual([3, 3, 2]);
      expect(formatted.delivered).toEqual([10, 20]);
      expect(silent.delivered).toEqual([]);
      expect(corked.delivered).toEqual([1, 2]);
    });
  });

  describe('burstRecords (records taken at once before the event loop turns)', () => {
    it("past burstRecords, a synchronous burst waits in winston's stream, unformatted, until the loop turns; all delivered in order", async () => {
      const { transport, delivered, open } = gated({ burstRecords: 3 });
      const logged: number[] = [];
      transport.on('logged', (info: { id: number }) => logged.push(info.id));
      let formatted = 0;
      const counting = winston.format((info) => {
        formatted++;
        return info;
      });
      const logger = winston.createLogger({ format: winston.format.combine(counting(), winston.format.json()), transports: [transport] });
      for (let i = 0; i < 200; i++) logger.info(`record ${i}`, { id: i });
      // Three taken at once, then the records behind them fill this transport's stream and the
      // logger's readable side (16 each), and the rest wait in the logger, not formatted yet.
      expect(logged).toEqual([0, 1, 2]);
      expect(formatted).toBeLessThan(60);
      expect(logger.writableLength).toBeGreaterThan(140);
      open();
      await endAndFinish(logger);
      expect(formatted).toBe(200);
      expect(logged).toEqual(Array.from({ length: 200 }, (_, i) => i));
      expect(delivered).toEqual(Array.from({ length: 200 }, (_, i) => i));
      expectCleanMetrics(transport, 200);
    });

    it("by default, a synchronous burst the buffer has room for is taken whole inside the loop: nothing waits in winston's streams", async () => {
      // 20,000 records: past the old default (10,000), which left the rest in winston's stream as whole info objects.
      const n = 20_000;
      const { transport, delivered, open } = gated();
      let formatted = 0;
      const counting = winston.format((info) => {
        formatted++;
        return info;
      });
      const logger = winston.createLogger({ format: winston.format.combine(counting(), winston.format.json()), transports: [transport] });
      for (let i = 0; i < n; i++) logger.info(`record ${i}`, { id: i });
      // Right after the loop: every record formatted and held by the buffer as its line, none left in winston.
      expect(formatted).toBe(n);
      expect(logger.writableLength + logger.readableLength + transport.writableLength).toBe(0);
      const m = transport.getMetrics();
      expect(m.eventsAccepted).toBe(n);
      expect(m.eventsBuffered + m.eventsInFlight).toBe(n);
      open();
      await endAndFinish(logger);
      expect(delivered).toEqual(Array.from({ length: n }, (_, i) => i));
      expectCleanMetrics(transport, n);
    });

    it("past maxBufferedBytes under 'block', the buffer holds at most maxBufferedBytes and the rest wait in winston: none lost, order kept", async () => {
      const n = 3_000; // ~75 bytes a line counted (line + 26): ~225 KB, over 3x the bound
      const maxBufferedBytes = 64 * 1024;
      const { transport, delivered, open } = gated({ maxBufferedBytes });
      const logger = winston.createLogger({ format: winston.format.json(), transports: [transport] });
      for (let i = 0; i < n; i++) logger.info(`record ${i}`, { id: i });
      const m = transport.getMetrics();
      expect(m.bytesBuffered + m.bytesInFlight).toBeLessThanOrEqual(maxBufferedBytes);
      expect(m.eventsAccepted).toBeLessThan(n / 2);
      // Every other record is still in winston's streams (or waits for room in add()): nothing dropped.
      const queued = logger.writableLength + logger.readableLength + transport.writableLength;
      expect(queued).toBeGreaterThan(n / 2);
      expect(m.eventsAccepted + queued).toBeLessThanOrEqual(n);
      expect(m.eventsAccepted + queued).toBeGreaterThanOrEqual(n - 1);
      open();
      await endAndFinish(logger);
      expect(delivered).toEqual(Array.from({ length: n }, (_, i) => i));
      expectCleanMetrics(transport, n);
    });

    it('flush() waits for the records winston still holds', async () => {
      const { transport, delivered, open } = gated({ burstRecords: 5 });
      const logger = winston.createLogger({ format: winston.format.json(), transports: [transport] });
      for (let i = 0; i < 100; i++) logger.info(`record ${i}`, { id: i });
      expect(logger.writableLength).toBeGreaterThan(0);
      open();
      expect(await transport.flush()).toBe(0);
      expect(delivered).toEqual(Array.from({ length: 100 }, (_, i) => i));
      await endAndFinish(logger);
    });

    it('is an integer >= 1 or Infinity', () => {
      for (const bad of [0, -1, 1.5, Number.NaN, '10']) {
        expect(() => new CloudWatchTransport({ logGroupName: GROUP, logStreamName: 's', flushOnExit: false, burstRecords: bad as number })).toThrow(
          /`burstRecords`/,
        );
      }
      expect(() => new CloudWatchTransport({ logGroupName: GROUP, logStreamName: 's', flushOnExit: false, burstRecords: Infinity, flushFunction: async () => ({}) })).not.toThrow();
    });
  });

  describe('in a child process (built package)', () => {
    beforeAll(() => assertBuilt());

    async function child(
      mode: string,
      url = endpoint.url,
      options: Record<string, unknown> = {},
    ): Promise<{ stream: string; now: number; code: number | null; stdout: string; stderr: string; ms: number }> {
      const stream = `child-${mode}-${++counter}`;
      const now = Date.now();
      const r = await runChild('winston-child.mjs', { url, group: GROUP, stream, scenario: 'exit', now, mode, batch: { ...FAST_RETRIES, ...options } });
      return { stream, now, ...r };
    }

    it("5a. 5,000 records, then logger.end() and process.exit(0) on 'finish': all stored", async () => {
      const r = await child('end-exit');
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain('finished');
      expect(endpoint.store.eventCount(GROUP, r.stream)).toBe(5_000);
      expectAllStored(r.stream, 'exit', r.now);
    });

    it('5b. 5,000 records, then await transport.flush() and process.exit(0): all stored', async () => {
      const r = await child('flush-exit');
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain('flushed 0');
      expect(endpoint.store.eventCount(GROUP, r.stream)).toBe(5_000);
      expectAllStored(r.stream, 'exit', r.now);
    });

    it('5c. 5,000 records, then the process simply ends: it exits by itself (beforeExit flush), all stored', async () => {
      const r = await child('natural');
      expect(r.code, r.stderr).toBe(0);
      expect(r.ms).toBeLessThan(15_000);
      await waitFor(() => endpoint.store.eventCount(GROUP, r.stream) >= 5_000, `5,000 events in ${r.stream}`, 2_000);
      expectAllStored(r.stream, 'exit', r.now);
      expect(cwbatchLines(r.stderr)).toEqual([]);
    });

    it('process.exit(0) without a flush: the loss is reported on stderr, not silent', async () => {
      const r = await child('exit-now');
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/cwbatch\/winston: \d+ event\(s\) not delivered: the process exited before they were flushed/);
    });

    it("with burstRecords, process.exit(0) without a flush: the records winston still held count in the loss", async () => {
      const r = await child('exit-now', endpoint.url, { burstRecords: 100 });
      expect(r.code, r.stderr).toBe(0);
      const said = /cwbatch\/winston: (\d+) event\(s\) not delivered \((\d+) of them still queued in winston's streams\)/.exec(r.stderr);
      expect(said, r.stderr).not.toBeNull();
      expect(Number(said![1])).toBe(5_000); // the 100 buffered and every record behind them
      expect(Number(said![2])).toBe(4_900);
    });
  });
});
