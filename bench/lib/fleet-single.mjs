#!/usr/bin/env node
/**
 * bench:fleet's "with no throttling, nothing changes" (issue 18): one process, one build,
 * adaptiveRate true and false alternated round by round (which goes first flips each round, so
 * that a machine's drift falls on both alike), nothing ever throttled.
 *
 * Cases:
 *  - core, 1 stream / 1,000 streams: bench:core's measurement (N awaited add() of 120-byte ASCII
 *    events, round-robin over the streams, no-op flush function, default options);
 *  - core, maxEvents 10: the same into 1 stream with a flush call every 10 events, so the
 *    pacer's path (asked before each call, told after it) is taken as often as it can be;
 *  - end to end: the real AWS SDK client (cwbatch's flush function) against the embedded
 *    endpoint on loopback with no quota, maxEvents 100: events/s from the first add() until
 *    stop() has delivered everything.
 *
 * Reports, per case, each mode's median events/s and spread, and the median of the paired ratios
 * true/false (each adaptiveRate: true round over the false round beside it), of wall time and of
 * this process's CPU time (the second counts less of the time other processes take the cores).
 * Target: within 3%.
 *
 * Usage (after `npm run build`): node bench/lib/fleet-single.mjs [--rounds N] [--events N]
 * [--e2e-events N] [--json] [--out DIR: also writes DIR/fleet-single.md and .json]. Reads dist/.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { relaunchWithExposedGc } from './expose-gc.mjs';
import { median } from './report.mjs';
import { coreRound as makeCoreRound, MESSAGES, timedRound } from './core-round.mjs';

relaunchWithExposedGc(import.meta.url);

const { values: opts } = parseArgs({
  options: {
    rounds: { type: 'string', default: '21' },
    events: { type: 'string', default: '1000000' },
    'e2e-events': { type: 'string', default: '50000' },
    json: { type: 'boolean', default: false },
    out: { type: 'string' },
  },
});
const ROUNDS = Number(opts.rounds);
const N = Number(opts.events);
const E2E_N = Number(opts['e2e-events']);
if (!(ROUNDS >= 1) || !(N >= 1) || !(E2E_N >= 1)) throw new RangeError('bad --rounds, --events or --e2e-events');

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const dist = (path) => pathToFileURL(join(root, 'dist', path)).href;
const { BatchBufferImpl } = await import(dist('batch/index.js'));
const { createCloudWatchFlushFunction } = await import(dist('aws/index.js'));
const { startLocalEndpoint } = await import(dist('local/index.js'));


/** One round of bench:core's measurement (lib/core-round.mjs): events/s of N awaited add(), delivered to a no-op flush function. */
function coreRound(adaptiveRate, streamCount, extra) {
  return timedRound(makeCoreRound(BatchBufferImpl, streamCount, { adaptiveRate, ...extra }), N);
}

/** One round end to end: the real SDK client and the embedded endpoint (no quota), until everything is stored. */
async function e2eRound(adaptiveRate, endpoint) {
  for (let i = 0; i < 2; i++) globalThis.gc();
  const flush = createCloudWatchFlushFunction({ clientConfig: { endpoint: endpoint.url, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } } });
  const buffer = new BatchBufferImpl(flush, { adaptiveRate, maxEvents: 100 });
  const stream = `e2e-${adaptiveRate}-${Math.random().toString(36).slice(2)}`;
  const start = process.hrtime.bigint();
  const cpuStart = process.cpuUsage();
  for (let i = 0; i < E2E_N; i++) await buffer.add('/bench/fleet-single', stream, { timestamp: Date.now(), message: MESSAGES[i & 4095] });
  await buffer.stop({ timeoutMs: 120_000 });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const cpu = process.cpuUsage(cpuStart);
  flush.service.destroy?.();
  const m = buffer.getMetrics();
  if (m.eventsDelivered !== E2E_N) throw new Error(`end to end: delivered ${m.eventsDelivered} of ${E2E_N}`);
  return { wall: E2E_N / seconds, cpu: E2E_N / ((cpu.user + cpu.system) / 1e6) };
}

const loadBefore = loadavg()[0];
const endpoint = await startLocalEndpoint({ keepEvents: false });
const cases = [
  { name: 'core, 1 stream', round: (on) => coreRound(on, 1, {}) },
  { name: 'core, 1,000 streams', round: (on) => coreRound(on, 1_000, {}) },
  { name: 'core, 1 stream, maxEvents 10 (a call per 10 events)', round: (on) => coreRound(on, 1, { maxEvents: 10 }) },
  { name: `end to end: SDK client + embedded endpoint, ${E2E_N.toLocaleString('en-US')} events, maxEvents 100`, round: (on) => e2eRound(on, endpoint) },
];
const rows = [];
try {
  for (const c of cases) {
    await c.round(true); // warm-up, both
    await c.round(false);
    const rates = { on: [], off: [] };
    const paired = [];
    const pairedCpu = [];
    for (let r = 0; r < ROUNDS; r++) {
      const order = r % 2 === 0 ? [true, false] : [false, true];
      const got = {};
      for (const on of order) got[on] = await c.round(on);
      rates.on.push(got.true.wall);
      rates.off.push(got.false.wall);
      paired.push(got.true.wall / got.false.wall);
      pairedCpu.push(got.true.cpu / got.false.cpu);
    }
    const sorted = [...paired].sort((a, b) => a - b);
    const sortedCpu = [...pairedCpu].sort((a, b) => a - b);
    rows.push({
      run: 'single',
      case: c.name,
      rounds: ROUNDS,
      onMedian: median(rates.on),
      offMedian: median(rates.off),
      onSpread: [Math.min(...rates.on), Math.max(...rates.on)],
      offSpread: [Math.min(...rates.off), Math.max(...rates.off)],
      pairedMedian: median(paired),
      pairedSpread: [sorted[0], sorted.at(-1)],
      pairedCpuMedian: median(pairedCpu),
      pairedCpuSpread: [sortedCpu[0], sortedCpu.at(-1)],
      within3: Math.abs(median(paired) - 1) <= 0.03,
      within3Cpu: Math.abs(median(pairedCpu) - 1) <= 0.03,
    });
  }
} finally {
  await endpoint.close();
}

const fmt = (x) => Math.round(x).toLocaleString('en-US');
if (opts.json) {
  for (const row of rows) process.stdout.write(`${JSON.stringify(row)}\n`);
} else {
  const lines = [
    `adaptiveRate true vs false in one process, ${new Date().toISOString()} (Node ${process.version}; load average ${loadBefore.toFixed(2)} before, ${loadavg()[0].toFixed(2)} after): ${ROUNDS} rounds each, alternated, nothing throttled. Target: within 3%.`,
    '',
    '| case | `adaptiveRate: true`, events/s (median, min..max) | `adaptiveRate: false` | true ÷ false, wall (median of paired rounds, min..max) | true ÷ false, per CPU second | within 3% (wall / CPU) |',
    '|---|---:|---:|---:|---:|---|',
    ...rows.map(
      (r) =>
        `| ${r.case} | ${fmt(r.onMedian)} (${fmt(r.onSpread[0])}..${fmt(r.onSpread[1])}) | ${fmt(r.offMedian)} (${fmt(r.offSpread[0])}..${fmt(r.offSpread[1])}) | ` +
        `${r.pairedMedian.toFixed(3)} (${r.pairedSpread[0].toFixed(3)}..${r.pairedSpread[1].toFixed(3)}) | ` +
        `${r.pairedCpuMedian.toFixed(3)} (${r.pairedCpuSpread[0].toFixed(3)}..${r.pairedCpuSpread[1].toFixed(3)}) | ${r.within3 ? 'yes' : 'no'} / ${r.within3Cpu ? 'yes' : 'no'} |`,
    ),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  if (opts.out !== undefined) {
    mkdirSync(opts.out, { recursive: true });
    writeFileSync(join(opts.out, 'fleet-single.md'), `${lines.join('\n')}\n`);
    writeFileSync(join(opts.out, 'fleet-single.json'), `${JSON.stringify({ loadBefore, loadAfter: loadavg()[0], rows }, null, 2)}\n`);
  }
}
