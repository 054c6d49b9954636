#!/usr/bin/env node
/**
 * bench:fleet — many processes sharing one account's quota (issue 18).
 *
 * The driver runs cwbatch's embedded endpoint (loopback only) with an account quota, and forks
 * worker processes (bench/lib/fleet-worker.mjs), each with its own buffer and its own AWS SDK
 * client, producing events at fixed rates. The 2-core machine cannot serve AWS's 5,000
 * PutLogEvents/s, so quota and offered load are scaled together (see Defaults below), batches
 * kept small (maxEvents 10).
 *
 * Runs, in one invocation:
 *  1. overload, three modes: adaptiveRate true; adaptiveRate false (fixed back-off); the SDK's
 *     retryMode 'adaptive' with adaptiveRate false;
 *  2. under quota (the same fleet offering 0.85x the quota, adaptiveRate true): zero throttles expected;
 *  3. start storm: 500 buffers (25 processes x 20 buffers, each buffer its own SDK client and its
 *     own stream, not created beforehand, 10 events each) start within one second against AWS's
 *     default quotas with CreateLogStream at 50/s and at 10/s, for adaptiveRate true and false.
 *
 * Reports goodput (accepted PutLogEvents/s ÷ quota, over the measured window), throttled share of
 * attempts, Jain's index of each process's delivered event rate against its max-min fair share,
 * the worst process's share, p99 delay from add() to storage, lost and duplicated events.
 *
 * Options: --json (one line per run), --quick (shorter runs), --duration S, --warmup S,
 * --quota N (default 40), --processes N (default 10), --storm-create-quota N (repeatable; default
 * 50 and 10), --only overload|under|storm (repeatable), --mode adaptive|fixed|sdk (repeatable: the
 * overload run's modes), --out DIR (default bench/results).
 *
 * Defaults: 10 processes (2 heavy offering 16 requests/s each, 8 light offering 2) against a quota
 * of 40/s: the per-process rates of the issue's model (50 processes, 200/s), with fewer processes,
 * because a 2-core machine shared with other work served only ~35-45 requests/s in all (measured).
 * `--processes 50 --quota 200` runs the issue's model on a quieter machine.
 */
import { fork } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { jain, maxMinFair, percentile, renderStormTable, renderSvg, renderTable, TARGETS } from './lib/fleet-report.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const { startLocalEndpoint, AWS_DEFAULT_QUOTAS } = await import(pathToFileURL(join(root, 'dist/local/index.js')).href);

const { values: opts } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    quick: { type: 'boolean', default: false },
    duration: { type: 'string' },
    warmup: { type: 'string' },
    quota: { type: 'string', default: '40' },
    processes: { type: 'string', default: '10' },
    'storm-create-quota': { type: 'string', multiple: true },
    only: { type: 'string', multiple: true },
    mode: { type: 'string', multiple: true },
    out: { type: 'string', default: join(here, 'results') },
  },
});

const QUOTA = Number(opts.quota);
const PROCESSES = Number(opts.processes);
const DURATION_MS = Number(opts.duration ?? (opts.quick ? 25 : 45)) * 1000;
const WARMUP_MS = Number(opts.warmup ?? (opts.quick ? 8 : 15)) * 1000;
const MAX_EVENTS = 10;
/** Flush timer: twice the time the lightest producer takes to fill a batch, so requests are full batches (requests/s = events/s ÷ maxEvents). */
const flushIntervalFor = (eventsPerSecond) => Math.min(30_000, Math.max(1_000, Math.ceil((2_000 * MAX_EVENTS) / Math.min(...eventsPerSecond))));
const STOP_TIMEOUT_MS = 90_000;
const OVERLOAD = 1.2;
const UNDER = 0.85;
const STORM = { processes: 25, buffersPerProcess: 20, eventsPerBuffer: 10, spreadMs: 1_000 };
/** CreateLogStream quotas of the storms: AWS's 50/s, and 10/s (scaled down, as a loaded 2-core machine cannot even offer 50/s). */
const STORM_CREATE_QUOTAS = (opts['storm-create-quota'] ?? ['50', '10']).map(Number);
/** stop()'s deadline in a storm: three times the least time the quota allows for every stream, at least 120 s. */
const stormStopTimeoutMs = (createQuota) => Math.max(120_000, Math.ceil((3_000 * STORM.processes * STORM.buffersPerProcess) / createQuota));
const only = new Set(opts.only ?? ['overload', 'under', 'storm']);
/** Modes of the overload run (--mode adaptive|fixed|sdk, repeatable; default all three). */
const modes = new Set(opts.mode ?? ['adaptive', 'fixed', 'sdk']);
if (!(QUOTA > 0) || !(PROCESSES >= 2) || !(DURATION_MS > WARMUP_MS)) throw new RangeError('bad --quota, --processes, --duration or --warmup');

const GROUP = '/bench/fleet';
const AUTH = 'AWS4-HMAC-SHA256 Credential=test/20261205/us-east-1/logs/aws4_request, SignedHeaders=host, Signature=0';
const log = (line) => {
  if (!opts.json) process.stderr.write(`${line}\n`);
};

/** Requests/s each process offers: a fifth heavy (8x a light one), the rest light; the sum is `factor` x quota. */
function fleetDemands(factor) {
  const heavy = Math.max(1, Math.round(PROCESSES / 5));
  const light = PROCESSES - heavy;
  const unit = (factor * QUOTA) / (heavy * 8 + light);
  return Array.from({ length: PROCESSES }, (_, i) => (i < heavy ? 8 * unit : unit));
}

async function call(url, target, payload, { allowExists = true } = {}) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `Logs_20140328.${target}`, authorization: AUTH },
    body: JSON.stringify(payload),
  });
  const text = await response.text();
  if (!response.ok && !(allowExists && text.includes('ResourceAlreadyExists'))) throw new Error(`${target}: ${response.status} ${text}`);
}

/** Counts what the endpoint stores: unique and duplicated events per stream, add→store delays, store times. */
function makeCounter(capacityOf) {
  const seen = new Map();
  const delays = [];
  const storedAt = new Map(); // stream -> array of store times (ms) of new events
  let unique = 0;
  let duplicates = 0;
  let unparsable = 0;
  let lastNewAt = 0;
  const onStored = (_group, stream, events, start, end) => {
    const now = Date.now();
    let bits = seen.get(stream);
    if (bits === undefined) seen.set(stream, (bits = new Uint8Array(capacityOf(stream))));
    let times = storedAt.get(stream);
    if (times === undefined) storedAt.set(stream, (times = []));
    for (let i = start; i < end; i++) {
      let parsed;
      try {
        parsed = JSON.parse(events[i].message);
      } catch {
        unparsable++;
        continue;
      }
      const seq = parsed.seq;
      if (!(seq >= 0 && seq < bits.length)) {
        unparsable++;
        continue;
      }
      if (bits[seq] === 0) {
        bits[seq] = 1;
        unique++;
        delays.push(now - parsed.t);
        times.push(now);
        lastNewAt = now;
      } else {
        duplicates++;
      }
    }
  };
  return {
    onStored,
    stats: () => ({ unique, duplicates, unparsable, lastNewAt }),
    delays,
    storedAt,
    uniqueOf: (stream) => {
      const bits = seen.get(stream);
      if (bits === undefined) return 0;
      let n = 0;
      for (let i = 0; i < bits.length; i++) n += bits[i];
      return n;
    },
  };
}

/** Forks the workers, starts them together, and collects their reports. Every wait is bounded. */
async function runWorkers(specs, url, mode, durationMs, stopTimeoutMs, startSpreadMs, onGo, flushIntervalMs = 1_000) {
  const children = specs.map((spec, proc) =>
    fork(
      join(here, 'lib/fleet-worker.mjs'),
      [
        JSON.stringify({
          root,
          url,
          group: GROUP,
          proc,
          mode,
          buffers: spec.buffers,
          durationMs,
          maxEvents: MAX_EVENTS,
          flushIntervalMs,
          stopTimeoutMs,
          startSpreadMs,
          seed: 1000 + proc,
        }),
      ],
      { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] },
    ),
  );
  const stderr = children.map(() => '');
  const reports = children.map(() => undefined);
  const exits = children.map(() => undefined);
  children.forEach((child, i) => {
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk) => {
      stderr[i] = (stderr[i] + chunk).slice(-2_000);
    });
  });
  const ready = children.map(
    (child) =>
      new Promise((resolve, reject) => {
        child.on('message', (m) => {
          if (m.type === 'ready') resolve();
        });
        child.on('exit', (code) => reject(new Error(`worker exited with ${code} before it was ready`)));
      }),
  );
  const done = children.map(
    (child, i) =>
      new Promise((resolve) => {
        child.on('message', (m) => {
          if (m.type === 'done') reports[i] = m;
        });
        child.on('exit', (code, signal) => {
          exits[i] = { code, signal };
          resolve();
        });
      }),
  );
  const readyTimeout = 180_000;
  await Promise.race([Promise.all(ready), new Promise((_, reject) => setTimeout(() => reject(new Error('workers not ready in time')), readyTimeout).unref())]);
  const goAt = Date.now() + 500;
  for (const child of children) child.send({ type: 'go', at: goAt });
  onGo?.(goAt);
  const allDone = Promise.all(done);
  const limit = durationMs + stopTimeoutMs + startSpreadMs + 60_000;
  const timedOut = await Promise.race([allDone.then(() => false), new Promise((resolve) => setTimeout(() => resolve(true), limit).unref())]);
  if (timedOut) for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  await allDone;
  return { goAt, reports, exits, stderr };
}

async function overloadRun(label, mode, factor) {
  const demands = fleetDemands(factor); // requests/s
  const eventsPerSecond = demands.map((d) => d * MAX_EVENTS);
  const streams = demands.map((_, p) => `p${String(p).padStart(3, '0')}`);
  const capacity = new Map(streams.map((s, p) => [s, Math.ceil((eventsPerSecond[p] * DURATION_MS) / 1000 + 1_000)]));
  const counter = makeCounter((s) => capacity.get(s) ?? 1_000);
  const endpoint = await startLocalEndpoint({ keepEvents: false, quotas: { PutLogEvents: QUOTA }, onStored: counter.onStored });
  try {
    await call(endpoint.url, 'CreateLogGroup', { logGroupName: GROUP });
    for (const s of streams) await call(endpoint.url, 'CreateLogStream', { logGroupName: GROUP, logStreamName: s });
    const load = loadavg()[0];
    log(`[${label}] ${PROCESSES} processes, offering ${(factor * QUOTA).toFixed(0)} PutLogEvents/s to a quota of ${QUOTA}/s; load average ${load.toFixed(2)}`);
    let snapStart;
    let snapEnd;
    const timers = [];
    const specs = streams.map((stream, p) => ({ buffers: [{ stream, eventsPerSecond: eventsPerSecond[p] }] }));
    const cpu0 = process.cpuUsage();
    const wall0 = Date.now();
    // PutLogEvents accepted and throttled in each second of the run (for the chart).
    const timeline = [];
    let sampler;
    const { goAt, reports, exits, stderr } = await runWorkers(specs, endpoint.url, mode, DURATION_MS, STOP_TIMEOUT_MS, 0, (at) => {
      timers.push(setTimeout(() => (snapStart = endpoint.stats().quotas), at - Date.now() + WARMUP_MS));
      timers.push(setTimeout(() => (snapEnd = endpoint.stats().quotas), at - Date.now() + DURATION_MS));
      timers.push(
        setTimeout(() => {
          let last = { ...endpoint.stats().quotas.byOperation.PutLogEvents };
          sampler = setInterval(() => {
            const now = endpoint.stats().quotas.byOperation.PutLogEvents;
            if (timeline.length * 1000 < DURATION_MS) timeline.push({ accepted: now.accepted - last.accepted, throttled: now.throttled - last.throttled });
            last = { ...now };
          }, 1_000);
          sampler.unref();
        }, Math.max(0, at - Date.now())),
      );
    }, flushIntervalFor(eventsPerSecond));
    for (const t of timers) clearTimeout(t);
    clearInterval(sampler);
    const cpu1 = process.cpuUsage(cpu0);
    const endpointCpuShare = (cpu1.user + cpu1.system) / 1000 / (Date.now() - wall0);
    snapEnd ??= endpoint.stats().quotas;
    snapStart ??= snapEnd;
    const windowS = (DURATION_MS - WARMUP_MS) / 1000;
    const a0 = snapStart.byOperation.PutLogEvents;
    const a1 = snapEnd.byOperation.PutLogEvents;
    const accepted = a1.accepted - a0.accepted;
    const throttled = a1.throttled - a0.throttled;
    // Delivered event rate per process over the window, against its max-min fair share of the
    // quota in events (quota x maxEvents).
    const winStart = goAt + WARMUP_MS;
    const winEnd = goAt + DURATION_MS;
    const delivered = streams.map((s) => (counter.storedAt.get(s) ?? []).filter((t) => t >= winStart && t < winEnd).length / windowS);
    const fair = maxMinFair(eventsPerSecond, QUOTA * MAX_EVENTS);
    const ratios = delivered.map((d, i) => d / fair[i]);
    const added = reports.reduce((n, r) => n + (r?.buffers ?? []).reduce((m, b) => m + b.added, 0), 0);
    const c = counter.stats();
    const total = endpoint.stats().quotas.byOperation.PutLogEvents;
    const row = {
      run: 'overload',
      label,
      mode,
      quota: QUOTA,
      processes: PROCESSES,
      offeredFactor: factor,
      offeredRequestsPerSecond: factor * QUOTA,
      flushIntervalMs: flushIntervalFor(eventsPerSecond),
      durationS: DURATION_MS / 1000,
      windowS,
      goodput: accepted / windowS / QUOTA,
      throttledShare: accepted + throttled === 0 ? 0 : throttled / (accepted + throttled),
      attemptsPerSecond: (accepted + throttled) / windowS,
      jain: jain(ratios),
      worst: Math.min(...ratios),
      worstProcess: ratios.indexOf(Math.min(...ratios)),
      p50DelayMs: percentile(counter.delays, 50),
      p99DelayMs: percentile(counter.delays, 99),
      added,
      delivered: c.unique,
      lost: added - c.unique,
      duplicates: c.duplicates,
      totalAccepted: total.accepted,
      totalThrottled: total.throttled,
      dropped: reports.reduce((n, r) => n + (r?.buffers ?? []).reduce((m, b) => m + b.dropped, 0), 0),
      crashed: exits.filter((e, i) => e?.code !== 0 || reports[i]?.crashed !== undefined).length,
      loadAverage: load,
      endpointCpuShare,
      workersCpuS: reports.reduce((n, r) => n + (r?.cpuMs ?? 0), 0) / 1000,
      errors: stderr.filter((s) => s.trim() !== '').slice(0, 3),
      timeline,
    };
    return row;
  } finally {
    await endpoint.close();
  }
}

async function stormRun(label, mode, createQuota) {
  const counter = makeCounter(() => STORM.eventsPerBuffer + 10);
  const endpoint = await startLocalEndpoint({ keepEvents: false, quotas: { ...AWS_DEFAULT_QUOTAS, CreateLogStream: createQuota }, onStored: counter.onStored });
  try {
    await call(endpoint.url, 'CreateLogGroup', { logGroupName: GROUP });
    const load = loadavg()[0];
    const expected = STORM.processes * STORM.buffersPerProcess;
    log(`[${label}] start storm: ${expected} buffers (${STORM.processes} processes x ${STORM.buffersPerProcess}), each its own SDK client and stream, within ${STORM.spreadMs} ms; load average ${load.toFixed(2)}`);
    const specs = Array.from({ length: STORM.processes }, (_, p) => ({
      buffers: Array.from({ length: STORM.buffersPerProcess }, (_, b) => ({ stream: `storm-${p}-${b}`, events: STORM.eventsPerBuffer })),
    }));
    const stopTimeoutMs = stormStopTimeoutMs(createQuota);
    const { goAt, reports, exits, stderr } = await runWorkers(specs, endpoint.url, mode, 0, stopTimeoutMs, STORM.spreadMs);
    const added = reports.reduce((n, r) => n + (r?.buffers ?? []).reduce((m, b) => m + b.added, 0), 0);
    const c = counter.stats();
    const q = endpoint.stats().quotas.byOperation;
    return {
      run: 'storm',
      label,
      mode,
      buffers: expected,
      processes: STORM.processes,
      createLogStreamQuota: createQuota,
      stopTimeoutMs,
      streamsExpected: expected,
      streamsCreated: endpoint.store.streamNames(GROUP).length,
      added,
      delivered: c.unique,
      lost: added - c.unique,
      duplicates: c.duplicates,
      dropped: reports.reduce((n, r) => n + (r?.buffers ?? []).reduce((m, b) => m + b.dropped, 0), 0),
      crashed: exits.filter((e, i) => e?.code !== 0 || reports[i]?.crashed !== undefined).length,
      createAccepted: q.CreateLogStream.accepted,
      createThrottled: q.CreateLogStream.throttled,
      putAccepted: q.PutLogEvents.accepted,
      putThrottled: q.PutLogEvents.throttled,
      allDeliveredMs: c.unique === added && c.lastNewAt > 0 ? c.lastNewAt - goAt : null,
      loadAverage: load,
      errors: stderr.filter((s) => s.trim() !== '').slice(0, 3),
    };
  } finally {
    await endpoint.close();
  }
}

function emit(row) {
  const { timeline: _timeline, ...line } = row;
  if (opts.json) process.stdout.write(`${JSON.stringify(line)}\n`);
  else log(`  -> ${JSON.stringify(line)}`);
}

const overloadRows = [];
const stormRows = [];
if (only.has('overload')) {
  for (const [label, mode] of [
    ['adaptiveRate: true', 'adaptive'],
    ['adaptiveRate: false (fixed back-off)', 'fixed'],
    ["SDK retryMode 'adaptive', adaptiveRate: false", 'sdk'],
  ]) {
    if (!modes.has(mode)) continue;
    const row = await overloadRun(label, mode, OVERLOAD);
    overloadRows.push(row);
    emit(row);
  }
}
if (only.has('under')) {
  const row = await overloadRun(`under quota (${UNDER}x), adaptiveRate: true`, 'adaptive', UNDER);
  row.run = 'under';
  overloadRows.push(row);
  emit(row);
}
if (only.has('storm')) {
  for (const createQuota of STORM_CREATE_QUOTAS) {
    for (const [label, mode] of [
      [`CreateLogStream ${createQuota}/s, adaptiveRate: true`, 'adaptive'],
      [`CreateLogStream ${createQuota}/s, adaptiveRate: false`, 'fixed'],
    ]) {
      const row = await stormRun(label, mode, createQuota);
      stormRows.push(row);
      emit(row);
    }
  }
}

if (!opts.json) {
  const meta = `quota ${QUOTA} PutLogEvents/s, ${PROCESSES} processes (${Math.round(PROCESSES / 5)} heavy, ${PROCESSES - Math.round(PROCESSES / 5)} light), maxEvents ${MAX_EVENTS}, ${DURATION_MS / 1000} s runs measured after ${WARMUP_MS / 1000} s`;
  const md = [
    `bench:fleet, ${new Date().toISOString()}: ${meta}. Targets: goodput >= ${TARGETS.goodput * 100}%, throttled <= ${TARGETS.throttledShare * 100}%, Jain >= ${TARGETS.jain}, worst >= ${TARGETS.worst}, lost 0.`,
    '',
    overloadRows.length > 0 ? renderTable(overloadRows) : '',
    '',
    stormRows.length > 0 ? renderStormTable(stormRows) : '',
    '',
  ].join('\n');
  process.stdout.write(`${md}\n`);
  mkdirSync(opts.out, { recursive: true });
  const name = opts.quick ? 'fleet-quick' : 'fleet';
  writeFileSync(join(opts.out, `${name}.json`), `${JSON.stringify({ meta, overload: overloadRows, storm: stormRows }, null, 2)}\n`);
  writeFileSync(join(opts.out, `${name}.md`), md);
  const modes = overloadRows.filter((r) => r.run === 'overload');
  if (modes.length > 0) writeFileSync(join(opts.out, `${name}.svg`), `${renderSvg(modes, `bench:fleet — ${meta}`, { quota: QUOTA, warmupS: WARMUP_MS / 1000 })}\n`);
}
