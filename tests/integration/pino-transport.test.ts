/**
 * cwbatch/pino with real pino (worker thread, thread-stream) against the embedded endpoint.
 * pino runs in a child process: ending a pino transport blocks the calling thread
 * (Atomics.wait) until the worker is done, which would also block an endpoint in the same
 * thread. Needs a build (`npm run build`): pino loads the target from dist/.
 */
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startLocalEndpoint, type LocalEndpoint } from '../../src/local/index.js';
import { assertBuilt, runLambda, byId, countingProxy, cwbatchLines, holdingProxy, readRecords, runChild } from '../fixtures/transports/helpers.js';
import { ROOT } from '../helpers/build.js';
import { waitFor } from '../helpers/wait-for.js';
// @ts-expect-error -- plain JS fixture shared with the child processes (no declaration file)
import { FAST_RETRIES, makeRecords } from '../fixtures/transports/scenarios.mjs';

type Rec = { id: number; time: number; msg: string };
const records = makeRecords as (name: string, now: number) => Rec[];
const GROUP = '/cwbatch/pino-test';

let endpoint: LocalEndpoint;
let counter = 0;

beforeAll(async () => {
  assertBuilt();
  endpoint = await startLocalEndpoint({ port: 0 });
});
afterAll(async () => {
  await endpoint.close();
});
afterEach(() => endpoint.setFaults({}));

interface Run {
  stream: string;
  now: number;
  stderr: string;
  stdout: string;
  code: number | null;
  ms: number;
}

async function run(
  scenario: string,
  mode: string,
  extra: Record<string, unknown> = {},
  url?: string,
  onLine?: Parameters<typeof runChild>[3],
): Promise<Run> {
  const stream = `${scenario}-${mode}-${++counter}`;
  const now = Date.now();
  const { batch, ...rest } = extra as { batch?: Record<string, unknown> };
  const result = await runChild('pino-child.mjs', {
    url: url ?? endpoint.url,
    group: GROUP,
    stream,
    scenario,
    now,
    mode,
    batch: { ...FAST_RETRIES, ...batch },
    ...rest,
  }, 45_000, onLine);
  return { stream, now, stderr: result.stderr, stdout: result.stdout, code: result.code, ms: result.ms };
}

/** Every record of the scenario stored once, with its own time, and the line pino wrote. */
async function expectAllStored(r: Run, scenario: string): Promise<void> {
  const expected = records(scenario, r.now);
  await waitFor(() => endpoint.store.eventCount(GROUP, r.stream) >= expected.length, `${expected.length} events in ${r.stream}`, 5_000);
  const stored = byId(readRecords(endpoint, GROUP, r.stream), expected.length);
  for (const rec of expected) {
    const got = stored.get(rec.id)!;
    expect(got.timestamp).toBe(rec.time);
    expect(got.json['time']).toBe(rec.time);
    expect(got.json['msg']).toBe(rec.msg);
  }
}

/** Events the transport reported dropped or rejected on stderr (`cwbatch/pino: N event(s) for ... dropped (reason), ...`). */
function reportedCount(stderr: string): number {
  let count = 0;
  for (const match of stderr.matchAll(/cwbatch\/pino: (\d+) event\(s\) for .* (?:dropped|rejected) \(/g)) count += Number(match[1]);
  return count;
}

describe('cwbatch/pino', () => {
  it('1. 100,000 records, then close (transport.end()): every record stored once, with its own timestamp', async () => {
    const r = await run('bulk', 'end');
    expect(r.code, r.stderr).toBe(0);
    // Delivered before the process exited: nothing is still on its way.
    expect(endpoint.store.eventCount(GROUP, r.stream)).toBe(100_000);
    await expectAllStored(r, 'bulk');
    expect(cwbatchLines(r.stderr)).toEqual([]);
  });

  it('2. a 300 KB and a 1.5 MB record among 100 small ones: all delivered, the 1.5 MB one split (target given as an absolute path)', async () => {
    const r = await run('large', 'end', { target: join(ROOT, 'dist', 'pino', 'index.js') });
    expect(r.code, r.stderr).toBe(0);
    await expectAllStored(r, 'large');
    const stored = readRecords(endpoint, GROUP, r.stream);
    const parts = new Map(stored.map((s) => [s.json['id'] as number, s.parts]));
    expect(parts.get(30)).toBe(1); // 300 KB fits in one event (1 MiB limit)
    expect(parts.get(70)).toBe(2); // 1.5 MB: split on character boundaries (oversizedEventPolicy 'split')
    for (const event of endpoint.store.events(GROUP, r.stream)) expect(Buffer.byteLength(event.message) + 26).toBeLessThanOrEqual(1_048_576);
  });

  it('3. records spanning 30 hours, out of order: all delivered', async () => {
    const r = await run('span', 'end');
    expect(r.code, r.stderr).toBe(0);
    await expectAllStored(r, 'span');
    expect(endpoint.stats().rejected).toEqual({ tooOld: 0, tooNew: 0, expired: 0 });
  });

  for (const throttleRate of [0.3, 0.7]) {
    it(`4. ${throttleRate * 100}% of PutLogEvents throttled: nothing lost`, async () => {
      endpoint.setFaults({ throttleRate });
      const before = endpoint.stats().faults.throttledByRate;
      const r = await run('throttle', 'end', { batch: { maxEvents: 500 } });
      expect(r.code, r.stderr).toBe(0);
      await expectAllStored(r, 'throttle');
      expect(endpoint.stats().faults.throttledByRate - before).toBeGreaterThan(5);
    });
  }

  it('back-pressure: 2.6 MB through a 64 KiB buffer (overflowPolicy block) against a slow endpoint: nothing dropped', async () => {
    endpoint.setFaults({ latencyMs: 10 });
    const r = await run('throttle', 'end', { batch: { maxEvents: 500, maxBufferedBytes: 64 * 1024 } });
    expect(r.code, r.stderr).toBe(0);
    await expectAllStored(r, 'throttle');
    expect(cwbatchLines(r.stderr)).toEqual([]);
  });

  it("sync: true (the README's setup), the buffer full and the endpoint silent: pino finishes its burst before any answer (held back for a moment, not the 10 s after which thread-stream destroys the transport); nothing dropped", async () => {
    // 60,000 lines (~6 MB, more than thread-stream's 4 MiB shared buffer, so pino's thread waits
    // for the worker), a 256 KiB bound that the first requests fill. The endpoint answers nothing
    // until the child says it has logged everything: a transport that held pino back until an
    // answer came would never get there (thread-stream throws after 10 s, the child fails).
    // The child ends its transport only once everything is stored: the point here is the burst,
    // and delivering the 60,000 lines after the release can take longer than the 10 s that
    // thread-stream's end() waits for the worker when the machine is loaded (CI).
    const proxy = await holdingProxy(endpoint.url);
    try {
      let atLogged: { received: number; answered: number } | undefined;
      const stream = `burst-end-${counter + 1}`; // the name run() gives it
      const r = await run('burst', 'end', { sync: true, endOnStdinEnd: true, batch: { maxEvents: 2_000, maxBufferedBytes: 256 * 1024 } }, proxy.url, (line, child) => {
        if (line !== 'logged') return;
        atLogged = { received: proxy.received, answered: proxy.answered };
        proxy.release();
        void waitFor(() => endpoint.store.eventCount(GROUP, stream) >= 60_000, `60,000 events in ${stream}`, 30_000)
          .catch(() => undefined)
          .finally(() => child.stdin?.end());
      });
      expect(r.stream).toBe(stream);
      expect(atLogged).toBeDefined();
      expect(atLogged!.received).toBeGreaterThan(0);
      expect(atLogged!.answered).toBe(0);
      expect(r.code, r.stderr).toBe(0);
      expect(endpoint.store.eventCount(GROUP, r.stream), r.stderr).toBe(60_000);
      await expectAllStored(r, 'burst');
      expect(cwbatchLines(r.stderr)).toEqual([]);
    } finally {
      await proxy.close();
    }
  }, 60_000);

  it('sync: true, the transport ended the moment the silent endpoint is released: each of the 60,000 events is stored or reported dropped, none lost without a count', async () => {
    // The sync-burst scenario above, ended at once instead of after delivery: thread-stream's
    // end() then waits for the worker while it delivers (at most shutdownTimeoutMs, 8 s), and
    // whatever it cannot deliver by then must be reported on stderr with its count. An earlier
    // version of the test above failed once this way with 58,746 stored, exit code 0 and an
    // empty stderr; not seen since (20 runs with two busy loops beside it, 8 with four).
    const proxy = await holdingProxy(endpoint.url);
    try {
      const r = await run('burst', 'end', { sync: true, endOnStdinEnd: true, batch: { maxEvents: 2_000, maxBufferedBytes: 256 * 1024 } }, proxy.url, (line, child) => {
        if (line !== 'logged') return;
        proxy.release();
        child.stdin?.end();
      });
      expect(r.code, r.stderr).toBe(0);
      const reported = reportedCount(r.stderr);
      // Delivered before the worker closed, so before the child exited; a moment for the last answers through the proxy.
      await waitFor(() => endpoint.store.eventCount(GROUP, r.stream) + reported >= 60_000, `60,000 events in ${r.stream} or reported`, 5_000).catch(() => undefined);
      expect(endpoint.store.eventCount(GROUP, r.stream) + reported, r.stderr).toBe(60_000);
    } finally {
      await proxy.close();
    }
  }, 60_000);

  it('5a. 5,000 records, then logger.flush(cb) and process.exit(0) in it: all stored', async () => {
    const r = await run('exit', 'flush-exit');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('flushed ok');
    expect(endpoint.store.eventCount(GROUP, r.stream)).toBe(5_000);
    await expectAllStored(r, 'exit');
  });

  it('5b. 5,000 records, then process.exit(0) at once (pino ends the transport on exit): all stored', async () => {
    const r = await run('exit', 'exit');
    expect(r.code, r.stderr).toBe(0);
    await expectAllStored(r, 'exit');
  });

  it('5c. 5,000 records, then the process simply ends: it exits by itself, all stored', async () => {
    const r = await run('exit', 'natural');
    expect(r.code, r.stderr).toBe(0);
    expect(r.ms).toBeLessThan(15_000);
    await expectAllStored(r, 'exit');
  });

  it('6. multibyte text (CJK, emoji) filling many batches: no batch rejected', async () => {
    const proxy = await countingProxy(endpoint.url);
    try {
      const r = await run('multibyte', 'end', {}, proxy.url);
      expect(r.code, r.stderr).toBe(0);
      await expectAllStored(r, 'multibyte');
      const puts = proxy.statuses.get('PutLogEvents') ?? [];
      expect(puts.length).toBeGreaterThanOrEqual(10); // ~12 MB of UTF-8: at least 10 batches
      // The one error allowed: the stream does not exist yet at the first request (createMissing).
      expect((proxy.errors.get('PutLogEvents') ?? []).filter((t) => t !== 'ResourceNotFoundException')).toEqual([]);
      expect(puts.filter((s) => s !== 200).length).toBeLessThanOrEqual(1);
    } finally {
      await proxy.close();
    }
  });

  it('failures are reported on stderr, never as a stream error: unreachable endpoint, the process still exits in time', async () => {
    const r = await run('exit', 'natural', { batch: { shutdownTimeoutMs: 1_000 } }, 'http://127.0.0.1:9');
    expect(r.code, r.stderr).toBe(0);
    expect(r.ms).toBeLessThan(10_000);
    const lines = cwbatchLines(r.stderr);
    // `shutdown` when the deadline finds the batch waiting out its back-off, `unknown` when it finds
    // a call still on its way (a refused connection is retried at once, so either can be the case).
    expect(lines.some((l) => /5000 event\(s\) for \/cwbatch\/pino-test\/exit-natural-\d+ dropped \((shutdown|unknown)\)/.test(l)), r.stderr).toBe(true);
  });

  it("the README Lambda recipe: each invocation's records are stored when the handler returns (process frozen, then killed)", async () => {
    const group = '/cwbatch/pino-lambda';
    const r = await runLambda('lambda-pino.mjs', endpoint, group, 3, 1_000);
    expect(r.countsAtReturn, r.stderr).toEqual([1_000, 2_000, 3_000]);
    expect(r.signal).toBe('SIGKILL');
  });
});
