#!/usr/bin/env node
/**
 * bench:core — the core's add() against a minimal baseline measured in the same run (issue 2).
 *
 *  1. add() throughput, awaited, 120-byte ASCII events, no-op flush function: into 1 stream and
 *     into 1,000 streams (round-robin). Baseline: an async function that only checks the event,
 *     measures its UTF-8 size and pushes it onto an array.
 *  2. Memory per buffered event: heapUsed delta / events after a full GC, in a child process run
 *     with --expose-gc, for the core (flush function that never completes, so every event stays
 *     buffered or in flight) and for the baseline.
 *
 * Several rounds, alternating baseline and core; medians; ratios. Targets: >= 0.75 x baseline
 * events/s in both cases, <= 1.5 x message bytes + 100 bytes per buffered event.
 * Run with `npm run bench:core` (builds first). Options: --events N, --rounds N, --json, and
 * --dist DIR to measure another build (default: this checkout's dist/), e.g. the commit before a
 * refactor, built in a worktree; bench/compare-core.mjs alternates two builds in one run.
 */
import { spawnSync } from 'node:child_process';
import { Buffer } from 'node:buffer';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { relaunchWithExposedGc } from './lib/expose-gc.mjs';
import { median } from './lib/report.mjs';

// Throughput rounds need gc() between rounds.
relaunchWithExposedGc(import.meta.url);

const { values: opts } = parseArgs({
  options: {
    dist: { type: 'string' },
    events: { type: 'string', default: '1000000' },
    rounds: { type: 'string', default: '5' },
    'memory-events': { type: 'string', default: '200000' },
    memory: { type: 'string' },
    streams: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});

const distUrl = opts.dist === undefined ? new URL('../dist/', import.meta.url) : pathToFileURL(`${resolve(opts.dist)}/`);
const { BatchBufferImpl } = await import(new URL('batch/index.js', distUrl).href);
/** Children measure the same build. */
const distArgs = opts.dist === undefined ? [] : ['--dist', resolve(opts.dist)];

const MESSAGE_BYTES = 120;
const GROUP = '/bench/core';
const T0 = 1_764_000_000_000;

/** A fresh, flat (sequential) 120-byte ASCII string carrying `n`, so no two messages share memory. */
const template = Buffer.from(`bench event ${'x'.repeat(MESSAGE_BYTES)}`.slice(0, MESSAGE_BYTES), 'latin1');
function message(n) {
  const digits = String(n);
  template.write(digits.padStart(12, '0'), MESSAGE_BYTES - 12, 'latin1');
  return template.toString('latin1');
}

function baselineSink() {
  const events = [];
  let bytes = 0;
  // The least a buffer can do: check the event, size it in UTF-8, keep it.
  async function add(_group, _stream, event) {
    if (event === null || typeof event !== 'object') throw new TypeError('event must be an object');
    const { timestamp, message } = event;
    if (!Number.isSafeInteger(timestamp) || timestamp < 0) throw new TypeError('bad timestamp');
    if (typeof message !== 'string' || message.length === 0) throw new TypeError('bad message');
    bytes += Buffer.byteLength(message, 'utf8') + 26;
    events.push(event);
  }
  return { add, events, bytes: () => bytes };
}

/** Reference only (not the target's baseline): the same, but kept in one array per stream, as any per-stream buffer must. */
function perStreamSink() {
  const streams = new Map();
  let bytes = 0;
  async function add(_group, stream, event) {
    if (event === null || typeof event !== 'object') throw new TypeError('event must be an object');
    const { timestamp, message } = event;
    if (!Number.isSafeInteger(timestamp) || timestamp < 0) throw new TypeError('bad timestamp');
    if (typeof message !== 'string' || message.length === 0) throw new TypeError('bad message');
    bytes += Buffer.byteLength(message, 'utf8') + 26;
    let list = streams.get(stream);
    if (list === undefined) streams.set(stream, (list = []));
    list.push(event);
  }
  return { add, bytes: () => bytes };
}

// ------------------------------------------------------------------ memory (child process)

if (opts.memory !== undefined) {
  const n = Number(opts['memory-events']);
  const gc = globalThis.gc;
  if (typeof gc !== 'function') throw new Error('run with --expose-gc');
  let add;
  let keep;
  if (opts.memory === 'core') {
    const buffer = new BatchBufferImpl(() => new Promise(() => undefined), {
      flushIntervalMs: 2_147_483_647,
      flushTimeoutMs: 2_147_483_647,
      maxBufferedBytes: Number.MAX_SAFE_INTEGER,
      onError: () => undefined,
    });
    add = (g, s, e) => buffer.add(g, s, e);
    keep = buffer;
  } else {
    const sink = baselineSink();
    add = sink.add;
    keep = sink;
  }
  // Warm up the code paths (and the stream's state) outside the measurement.
  await add(GROUP, 's', { timestamp: T0, message: message(0) });
  for (let i = 0; i < 3; i++) gc();
  const before = process.memoryUsage().heapUsed;
  for (let i = 1; i <= n; i++) await add(GROUP, 's', { timestamp: T0 + i, message: message(i) });
  for (let i = 0; i < 3; i++) gc();
  const after = process.memoryUsage().heapUsed;
  const metrics = opts.memory === 'core' ? keep.getMetrics() : { eventsBuffered: keep.events.length, eventsInFlight: 0 };
  process.stdout.write(
    JSON.stringify({ perEvent: (after - before) / n, held: metrics.eventsBuffered + metrics.eventsInFlight - 1 }) + '\n',
  );
  process.exit(0);
}

function measureMemory(kind) {
  const child = spawnSync(
    process.execPath,
    ['--expose-gc', fileURLToPath(import.meta.url), '--memory', kind, '--memory-events', opts['memory-events'], ...distArgs],
    { encoding: 'utf8', maxBuffer: 1 << 20 },
  );
  if (child.status !== 0) throw new Error(`memory child (${kind}) failed: ${child.stderr}`);
  const result = JSON.parse(child.stdout.trim().split('\n').at(-1));
  if (result.held !== Number(opts['memory-events'])) throw new Error(`memory child (${kind}) held ${result.held} events`);
  return result.perEvent;
}

// ------------------------------------------------------------------ throughput

const N = Number(opts.events);
const POOL = 4096;
const messages = Array.from({ length: POOL }, (_, i) => message(i));
const streams1000 = Array.from({ length: 1000 }, (_, i) => `stream-${i}`);

async function run(add, streamCount) {
  // Each round starts with a clean heap: otherwise the next round pays for collecting the last
  // one's garbage (the baseline leaves 1M events behind, the core far less), which biased the
  // comparison against whichever case ran second.
  for (let i = 0; i < 2; i++) globalThis.gc();
  const start = process.hrtime.bigint();
  const cpuStart = process.cpuUsage();
  if (streamCount === 1) {
    for (let i = 0; i < N; i++) await add(GROUP, 'stream-0', { timestamp: T0 + i, message: messages[i & (POOL - 1)] });
  } else {
    for (let i = 0; i < N; i++) {
      await add(GROUP, streams1000[i % 1000], { timestamp: T0 + i, message: messages[i & (POOL - 1)] });
    }
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const cpu = process.cpuUsage(cpuStart);
  // Events per second of wall time (the figure the target is set in), and per second of this
  // process's CPU time, which also counts the collector's helper threads that wall time can hide.
  return { wall: N / seconds, cpu: N / ((cpu.user + cpu.system) / 1e6) };
}

async function roundBaseline(streamCount) {
  const sink = baselineSink();
  const rate = await run(sink.add, streamCount);
  if (sink.events.length !== N) throw new Error('baseline lost events');
  return rate;
}

async function roundCore(streamCount) {
  let delivered = 0;
  const buffer = new BatchBufferImpl(async (_g, _s, events) => {
    delivered += events.length;
  });
  const rate = await run((g, s, e) => buffer.add(g, s, e), streamCount);
  await buffer.stop();
  const m = buffer.getMetrics();
  if (delivered !== N || m.eventsDelivered !== N || m.eventsAccepted !== N) {
    throw new Error(`core: accepted ${m.eventsAccepted}, delivered ${delivered}/${m.eventsDelivered} of ${N}`);
  }
  return rate;
}


const rounds = Number(opts.rounds);

/** One stream count, in this process: warm-up, then rounds alternating baseline and core. */
async function measureStreams(streamCount) {
  const base = [];
  const core = [];
  const perStream = [];
  // Warm-up round of each, not counted.
  await roundBaseline(streamCount);
  await roundCore(streamCount);
  for (let r = 0; r < rounds; r++) {
    base.push(await roundBaseline(streamCount));
    core.push(await roundCore(streamCount));
    if (streamCount > 1) perStream.push(await run(perStreamSink().add, streamCount));
  }
  const b = median(base.map((r) => r.wall));
  const c = median(core.map((r) => r.wall));
  const cpu = { baseline: median(base.map((r) => r.cpu)), core: median(core.map((r) => r.cpu)) };
  return {
    baseline: b,
    core: c,
    ratio: c / b,
    target: 0.75,
    ok: c / b >= 0.75,
    cpu: { ...cpu, ratio: cpu.core / cpu.baseline },
    ...(perStream.length > 0 ? { perStreamReference: median(perStream.map((r) => r.wall)) } : {}),
  };
}

if (opts.streams !== undefined) {
  process.stdout.write(JSON.stringify(await measureStreams(Number(opts.streams))) + '\n');
  process.exit(0);
}

// Each stream count in a fresh process (as the comparison benchmarks run each case): code
// optimised and a heap sized for one case would otherwise be measured in the next.
const results = {};
for (const streamCount of [1, 1000]) {
  const child = spawnSync(
    process.execPath,
    ['--expose-gc', fileURLToPath(import.meta.url), '--streams', String(streamCount), '--events', String(N), '--rounds', String(rounds), ...distArgs],
    { encoding: 'utf8', maxBuffer: 1 << 20 },
  );
  if (child.status !== 0) throw new Error(`throughput child (${streamCount} streams) failed: ${child.stderr}`);
  results[`${streamCount} stream${streamCount === 1 ? '' : 's'}`] = JSON.parse(child.stdout.trim().split('\n').at(-1));
}

const memBase = [];
const memCore = [];
for (let r = 0; r < 3; r++) {
  memBase.push(measureMemory('baseline'));
  memCore.push(measureMemory('core'));
}
const memLimit = 1.5 * MESSAGE_BYTES + 100;
const memory = {
  baseline: median(memBase),
  core: median(memCore),
  limit: memLimit,
  ok: median(memCore) <= memLimit,
};

if (opts.json) {
  process.stdout.write(JSON.stringify({ events: N, rounds, messageBytes: MESSAGE_BYTES, throughput: results, memory }, null, 2) + '\n');
} else {
  const fmt = (x) => Math.round(x).toLocaleString('en-US');
  console.log(`bench:core — ${N.toLocaleString('en-US')} awaited add() per round, ${rounds} rounds (medians), ${MESSAGE_BYTES}-byte ASCII messages, Node ${process.version}`);
  for (const [name, r] of Object.entries(results)) {
    console.log(
      `  add() into ${name.padEnd(11)} core ${fmt(r.core).padStart(11)} ev/s   baseline ${fmt(r.baseline).padStart(11)} ev/s   ratio ${r.ratio.toFixed(2)} (target >= 0.75) ${r.ok ? 'OK' : 'MISSED'}`,
    );
    console.log(`    per CPU second (the collector's helper threads counted): core ${fmt(r.cpu.core)} ev/s   baseline ${fmt(r.cpu.baseline)} ev/s   ratio ${r.cpu.ratio.toFixed(2)}`);
    if (r.perStreamReference !== undefined) {
      console.log(
        `    reference, baseline with one array per stream: ${fmt(r.perStreamReference)} ev/s (core / it = ${(r.core / r.perStreamReference).toFixed(2)}; baseline / it = ${(r.baseline / r.perStreamReference).toFixed(2)})`,
      );
    }
  }
  console.log(
    `  memory per buffered event: core ${memory.core.toFixed(1)} B   baseline ${memory.baseline.toFixed(1)} B   (target <= ${memLimit} B = 1.5 x ${MESSAGE_BYTES} + 100; ratio to baseline ${(memory.core / memory.baseline).toFixed(2)}) ${memory.ok ? 'OK' : 'MISSED'}`,
  );
}
const allOk = Object.values(results).every((r) => r.ok) && memory.ok;
process.exitCode = allOk ? 0 : 1;
