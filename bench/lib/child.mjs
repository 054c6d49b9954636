/**
 * One benchmark run in a fresh process: sets a case up (not measured), logs `n` events as fast
 * as the case accepts them, finishes it (flush/stop/close as the package documents), and waits
 * until the endpoint process has every event (or nothing new arrived for `stallMs`). Measures
 * its own CPU (process.cpuUsage: user + system of every thread, pino's workers included) from
 * the first log call to delivery, and its peak RSS (VmHWM). Talks to the driver over IPC.
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

const args = JSON.parse(process.argv[2]);
const { caseFile, n, stallMs, deadlineMs, heapProbe } = args;
const wallNow = () => performance.timeOrigin + performance.now();

function vm(field) {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

let pending;
process.on('message', (message) => {
  if (message.type === 'stats' && pending !== undefined) {
    const resolve = pending;
    pending = undefined;
    resolve(message);
  }
});
function endpointStats() {
  return new Promise((resolve) => {
    pending = resolve;
    process.send({ type: 'stats?' });
  });
}
/**
 * CPU time (user + system, µs) of this, the application's, thread alone (Node >= 23.9:
 * process.threadCpuUsage); NaN before. The rest of the process's CPU is its other threads': pino's
 * worker, V8's GC helpers, libuv's pool.
 */
function mainThreadCpuUs() {
  if (typeof process.threadCpuUsage !== 'function') return Number.NaN;
  const { user, system } = process.threadCpuUsage();
  return user + system;
}
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function main() {
  const mod = await import(pathToFileURL(caseFile).href);
  const bench = await mod.setup(args);
  if (global.gc) global.gc();
  const rssBefore = vm('VmRSS');
  const heapBefore = process.memoryUsage().heapUsed;
  const cpu0 = process.cpuUsage();
  const main0 = mainThreadCpuUs();
  const t0 = wallNow();
  const { log } = bench;
  for (let i = 0; i < n; i++) {
    const r = log(i);
    if (r !== undefined) await r;
  }
  const tLogged = wallNow();
  const mainLoopUs = mainThreadCpuUs() - main0;
  // Heap probe (memory cases only, run with --expose-gc): what is live once the burst is logged
  // (the buffer at its bound), against what the buffer counts, apart from garbage not collected yet.
  let heap;
  if (heapProbe && global.gc) {
    const before = process.memoryUsage();
    const counted = bench.counted?.();
    global.gc();
    const after = process.memoryUsage();
    heap = { heapBefore, heapUsedBeforeGc: before.heapUsed, rssAtProbe: before.rss, heapUsedAfterGc: after.heapUsed, counted };
  }
  if (bench.local !== undefined) return finishLocal(bench, { t0, tLogged, cpu0, main0, mainLoopUs, rssBefore, heap });
  let finishDone = false;
  let finishInfo;
  let finishError;
  const finishing = Promise.resolve()
    .then(() => bench.finish())
    .then(
      (info) => {
        finishInfo = info;
      },
      (error) => {
        finishError = String(error?.stack ?? error);
      },
    )
    .finally(() => {
      finishDone = true;
    });
  let stats = await endpointStats();
  let lastUnique = stats.unique;
  let lastProgress = wallNow();
  let outcome = 'complete';
  while (stats.unique < n) {
    const now = wallNow();
    if (now - t0 > deadlineMs) {
      outcome = 'deadline';
      break;
    }
    if (now - lastProgress > stallMs && (finishDone || now - lastProgress > 3 * stallMs)) {
      outcome = finishDone ? 'stalled-after-finish' : 'stalled';
      break;
    }
    await sleep(finishDone ? 20 : 10);
    stats = await endpointStats();
    if (stats.unique !== lastUnique) {
      lastUnique = stats.unique;
      lastProgress = wallNow();
    }
  }
  const cpu = process.cpuUsage(cpu0);
  const mainUs = mainThreadCpuUs() - main0;
  const tDone = wallNow();
  // Give finish() a moment to settle so that its info (metrics) can be reported.
  await Promise.race([finishing, sleep(outcome === 'complete' ? 2000 : 100)]);
  process.send({
    type: 'result',
    outcome,
    t0,
    tLogged,
    tDone,
    cpuUserUs: cpu.user,
    cpuSystemUs: cpu.system,
    mainThreadCpuUs: mainUs,
    mainThreadLoopCpuUs: mainLoopUs,
    rssBefore,
    peakRss: vm('VmHWM'),
    finishDone,
    finishError,
    finishInfo,
    config: bench.config,
    networkRefusals: globalThis.__cwbatchBenchRefusals?.length ?? 0,
    heap,
  });
}

/**
 * A file baseline: finish (the logger ends, the file is written and closed), then count the
 * file's lines until all `n` are there or the file stopped growing for `stallMs`. The CPU spent
 * counting is the driver's, not the case's: it is measured and taken out.
 */
async function finishLocal(bench, { t0, tLogged, cpu0, main0, mainLoopUs, rssBefore, heap }) {
  let finishError;
  try {
    await bench.finish();
  } catch (error) {
    finishError = String(error?.stack ?? error);
  }
  let countingUs = 0;
  const count = () => {
    const c0 = process.cpuUsage();
    const lines = bench.local.count();
    const c = process.cpuUsage(c0);
    countingUs += c.user + c.system;
    return lines;
  };
  let cpu = process.cpuUsage(cpu0);
  let mainUs = mainThreadCpuUs() - main0;
  let tDone = wallNow();
  let lines = count();
  let lastProgress = wallNow();
  let outcome = 'complete';
  while (lines < n) {
    const now = wallNow();
    if (now - t0 > deadlineMs) {
      outcome = 'deadline';
      break;
    }
    if (now - lastProgress > stallMs) {
      outcome = 'stalled-after-finish';
      break;
    }
    await sleep(20);
    const more = count();
    if (more !== lines) {
      lines = more;
      lastProgress = wallNow();
      cpu = process.cpuUsage(cpu0);
      mainUs = mainThreadCpuUs() - main0;
      tDone = lastProgress;
    }
  }
  const peakRss = vm('VmHWM');
  bench.local.remove?.();
  process.send({
    type: 'result',
    outcome,
    t0,
    tLogged,
    tDone,
    cpuUserUs: Math.max(0, cpu.user - countingUs),
    cpuSystemUs: cpu.system,
    // The counting above runs on this thread: taken out as from the process's figure.
    mainThreadCpuUs: Math.max(0, mainUs - countingUs),
    mainThreadLoopCpuUs: mainLoopUs,
    rssBefore,
    peakRss,
    finishDone: true,
    finishError,
    config: bench.config,
    networkRefusals: globalThis.__cwbatchBenchRefusals?.length ?? 0,
    heap,
    local: { lines },
  });
}

main().then(
  () => setTimeout(() => process.exit(0), 50),
  (error) => {
    process.send({ type: 'error', message: String(error?.stack ?? error) });
    setTimeout(() => process.exit(1), 50);
  },
);
