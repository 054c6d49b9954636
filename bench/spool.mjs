/**
 * Benchmark of durable mode (issue 8): events/s and CPU per event of BatchBufferImpl with the
 * spool at each fsync setting, beside the in-memory buffer, in the same run.
 *
 *   npm run build && node bench/spool.mjs [--n=100000] [--reps=3] [--sinks=noop,endpoint] [--root=DIR]
 *
 * Two sinks, each case in a fresh child process, repetitions interleaved, medians reported:
 * - `noop`: a flush function that resolves at once, in the same process. Shows the spool's cost
 *   against the buffer alone (the worst case for the ratio: nothing else costs anything).
 * - `endpoint`: createCloudWatchFlushFunction (real SDK client) to cwbatch's embedded endpoint in
 *   a process of its own (bench/lib/endpoint.mjs; its CPU is not counted), which also counts lost
 *   and duplicated events by the `"seq":N` of each message.
 *
 * Producers: `<mode>`: `await buffer.add()` for every event, as the core bench does
 * (back-pressure); `<mode>/100`: 100 add()s issued in one run of code, then awaited together (a
 * logger writing a burst of lines; the spool's group commit writes them with one writeSync, and
 * with 'always' one fsync); `ship`: `cwbatch ship -f FILE` (endpoint sink only), in the child's
 * process, of a file of the same n lines, with and without `--spool` (fsync 'batch'): durable mode
 * as the CLI uses it, reading included. Ratios are against the in-memory row of the same producer.
 * `always` awaiting each add() pays one fsync per event, so it runs min(n, 20000) events. events/s = events / (first add() .. stop() resolved, everything delivered); CPU/event =
 * (user + system CPU of the producing process) / events. Spool in a fresh os.tmpdir() directory.
 */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = join(here, '..');
const GROUP = '/bench/spool';
const STREAM = 'bench';

/** `chunk`: add()s issued together before awaiting them (1: await each). */
const MODES = [
  { id: 'memory', spool: undefined, chunk: 1 },
  { id: 'never', spool: 'never', chunk: 1 },
  { id: 'batch', spool: 'batch', chunk: 1 },
  { id: 'always', spool: 'always', chunk: 1, maxN: 20_000 },
  { id: 'memory/100', spool: undefined, chunk: 100 },
  { id: 'never/100', spool: 'never', chunk: 100 },
  { id: 'batch/100', spool: 'batch', chunk: 100 },
  { id: 'always/100', spool: 'always', chunk: 100 },
  { id: 'ship', spool: undefined, cli: true, sinks: ['endpoint'] },
  { id: 'ship --spool', spool: 'batch', cli: true, sinks: ['endpoint'] },
];
/** The in-memory row a mode's ratios are against. */
const baseIdOf = (mode) => (mode.cli ? 'ship' : mode.chunk === 1 ? 'memory' : `memory/${mode.chunk}`);

if (process.argv[2] === '--case') await runCase(JSON.parse(process.argv[3]));
else await drive();

// ---------------------------------------------------------------- one case, in a child process

async function runCase({ sink, mode, n, url, root, linesFile }) {
  if (mode.cli) return runShipCase({ mode, n, url, root, linesFile });
  const { BatchBufferImpl } = await import(pathToFileURL(join(root, 'dist/batch/index.js')).href);
  const { rawMessage } = await import(pathToFileURL(join(here, 'lib/message.mjs')).href);
  let flush;
  let destroy = () => undefined;
  if (sink === 'noop') {
    flush = async () => undefined;
  } else {
    const { createCloudWatchFlushFunction } = await import(pathToFileURL(join(root, 'dist/aws/index.js')).href);
    flush = createCloudWatchFlushFunction({
      clientConfig: { endpoint: url, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } },
    });
    destroy = () => flush.service.destroy();
  }
  const dir = mode.spool === undefined ? undefined : mkdtempSync(join(tmpdir(), 'cwbatch-bench-spool-'));
  const buffer = new BatchBufferImpl(flush, {
    onError: (error) => console.error('bench: background error', error),
    ...(dir === undefined ? {} : { spool: { dir, fsync: mode.spool } }),
  });
  buffer.start();
  const time = Date.now();
  // Messages made before the clock starts: the bench measures the buffer, not string building.
  const messages = Array.from({ length: n }, (_, i) => rawMessage(i, time));
  if (global.gc) global.gc();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  if (mode.chunk === 1) {
    for (let i = 0; i < n; i++) await buffer.add(GROUP, STREAM, { timestamp: time, message: messages[i] });
  } else {
    for (let i = 0; i < n; i += mode.chunk) {
      const adds = [];
      for (let j = i; j < Math.min(n, i + mode.chunk); j++) adds.push(buffer.add(GROUP, STREAM, { timestamp: time, message: messages[j] }));
      await Promise.all(adds);
    }
  }
  const tAdded = performance.now();
  await buffer.stop();
  const t1 = performance.now();
  const cpu = process.cpuUsage(cpu0);
  destroy();
  const m = buffer.getMetrics();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  process.send({
    n,
    seconds: (t1 - t0) / 1000,
    addSeconds: (tAdded - t0) / 1000,
    cpuMicros: cpu.user + cpu.system,
    delivered: m.eventsDelivered,
    dropped: m.eventsDropped,
  });
}

/** `cwbatch ship` in this process (its CPU is ours), reading `linesFile` to the endpoint. */
async function runShipCase({ mode, n, url, root, linesFile }) {
  const { runShip } = await import(pathToFileURL(join(root, 'dist/cli/ship.js')).href);
  Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_REGION: 'us-east-1' });
  const dir = mode.spool === undefined ? undefined : mkdtempSync(join(tmpdir(), 'cwbatch-bench-spool-'));
  const args = ['-g', GROUP, '-s', STREAM, '-f', linesFile, '--endpoint', url, ...(dir === undefined ? [] : ['--spool', dir])];
  if (global.gc) global.gc();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const code = await runShip(args);
  const t1 = performance.now();
  const cpu = process.cpuUsage(cpu0);
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  process.send({ n, seconds: (t1 - t0) / 1000, addSeconds: null, cpuMicros: cpu.user + cpu.system, delivered: code === 0 ? n : -1, dropped: 0 });
}

// ---------------------------------------------------------------- the driver

function option(name, fallback) {
  const arg = process.argv.find((a) => a.startsWith(`--${name}=`));
  return arg === undefined ? fallback : arg.slice(name.length + 3);
}

function once(child, type) {
  return new Promise((resolve, reject) => {
    const onExit = (code) => reject(new Error(`process exited (${code}) before answering`));
    const onMessage = (message) => {
      if (message.type === 'error') reject(new Error(message.message));
      else if (type === undefined || message.type === type) {
        child.off('message', onMessage);
        child.off('exit', onExit);
        resolve(message);
      }
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

async function drive() {
  const n = Number(option('n', '100000'));
  // --root: a cwbatch checkout whose dist/ to measure (default: this one).
  const root = option('root', repoRoot);
  const reps = Number(option('reps', '3'));
  const sinks = option('sinks', 'noop,endpoint').split(',');
  const guard = join(here, 'lib/loopback-guard.cjs');
  let endpoint;
  let url;
  if (sinks.includes('endpoint')) {
    endpoint = fork(join(here, 'lib/endpoint.mjs'), [root], { execArgv: ['--require', guard] });
    url = (await once(endpoint, 'listening')).url;
  }
  const results = new Map();
  const checks = [];
  // The file the `ship` rows read: the same n lines the other rows add.
  const linesDir = mkdtempSync(join(tmpdir(), 'cwbatch-bench-lines-'));
  const linesFile = join(linesDir, 'lines.log');
  const { rawMessage } = await import(pathToFileURL(join(here, 'lib/message.mjs')).href);
  const fileTime = Date.now();
  writeFileSync(linesFile, Array.from({ length: n }, (_, i) => `${rawMessage(i, fileTime)}\n`).join(''));
  for (let rep = 0; rep < reps; rep++) {
    for (const sink of sinks) {
      for (const mode of MODES) {
        if (mode.sinks !== undefined && !mode.sinks.includes(sink)) continue;
        const count = Math.min(n, mode.maxN ?? n);
        if (sink === 'endpoint') {
          endpoint.send({ type: 'reset', n: count, group: GROUP, stream: STREAM });
          await once(endpoint, 'reset-done');
        }
        const child = fork(fileURLToPath(import.meta.url), ['--case', JSON.stringify({ sink, mode, n: count, url, root, linesFile })], {
          // --no-warnings: the SDK's Node-version notice, once per child, would bury the table.
          execArgv: ['--require', guard, '--expose-gc', '--no-warnings'],
        });
        const result = await once(child);
        await new Promise((resolve) => child.once('exit', resolve));
        if (sink === 'endpoint') {
          endpoint.send({ type: 'stats' });
          const stats = await once(endpoint, 'stats');
          if (stats.lost !== 0 || stats.duplicates !== 0) checks.push(`${sink}/${mode.id} rep ${rep}: lost ${stats.lost}, duplicated ${stats.duplicates}`);
        }
        if (result.delivered !== count) checks.push(`${sink}/${mode.id} rep ${rep}: delivered ${result.delivered} of ${count}`);
        const key = `${sink}|${mode.id}`;
        if (!results.has(key)) results.set(key, []);
        results.get(key).push(result);
        process.stderr.write('.');
      }
    }
  }
  process.stderr.write('\n');
  rmSync(linesDir, { recursive: true, force: true });
  if (endpoint !== undefined) {
    endpoint.send({ type: 'close' });
    await new Promise((resolve) => endpoint.once('exit', resolve));
  }
  const median = (values) => {
    const sorted = [...values].sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)];
  };
  console.log(`# cwbatch durable mode: spool vs in-memory (Node ${process.version}, ${reps} reps, medians; n = ${n}, 'always' awaited per add: ${Math.min(n, 20_000)})`);
  console.log('');
  console.log('| sink | mode | events | events/s | x in-memory | CPU µs/event | x in-memory | add() phase s |');
  console.log('|---|---|---:|---:|---:|---:|---:|---:|');
  let verdict = '';
  for (const sink of sinks) {
    for (const mode of MODES) {
      const base = results.get(`${sink}|${baseIdOf(mode)}`);
      if (base === undefined) continue;
      const baseRate = median(base.map((r) => r.n / r.seconds));
      const baseCpu = median(base.map((r) => r.cpuMicros / r.n));
      const rs = results.get(`${sink}|${mode.id}`);
      const rate = median(rs.map((r) => r.n / r.seconds));
      const cpu = median(rs.map((r) => r.cpuMicros / r.n));
      const add = median(rs.map((r) => r.addSeconds));
      console.log(
        `| ${sink} | ${mode.id} | ${rs[0].n} | ${Math.round(rate).toLocaleString('en-US')} | ${(rate / baseRate).toFixed(2)} | ${cpu.toFixed(2)} | ${(cpu / baseCpu).toFixed(2)} | ${add === null ? '-' : add.toFixed(2)} |`,
      );
      // The target (issue 8: 'batch' >= 0.5 x in-memory events/s) is judged on the endpoint sink
      // with events handed over in bursts, as the CLI (a chunk of lines) and winston (logv) do.
      // Every add() awaited alone is shown as the worst case: durability then costs one write()
      // per event, which no grouping can share.
      const ratio = rate / baseRate;
      if (sink === 'endpoint' && (mode.id === 'batch/100' || mode.id === 'ship --spool')) {
        verdict += `\n${sink}, ${mode.id}: ${ratio.toFixed(2)} x in-memory events/s (target >= 0.5): ${ratio >= 0.5 ? 'met' : 'MISSED'}`;
      } else if (mode.id === 'batch') {
        verdict += `\n${sink}, ${mode.id}: ${ratio.toFixed(2)} x in-memory events/s (worst case: every add() awaited alone, one write() each)`;
      }
    }
  }
  console.log(verdict);
  console.log(checks.length === 0 ? '\nEvery run delivered every event (endpoint: none lost, none duplicated).' : `\nPROBLEMS:\n${checks.join('\n')}`);
  if (checks.length > 0) process.exitCode = 1;
}
