#!/usr/bin/env node
/**
 * cwbatch benchmarks: `npm run bench` (full) or `npm run bench -- --quick` (about a minute).
 *
 * Builds cwbatch if its dist/ is missing or older than src/, installs bench/'s own dependencies
 * if missing (the peers are never dependencies of cwbatch), starts the embedded endpoint in a
 * process of its own (faults off, bodies not kept), then runs every case in a fresh child
 * process, several times, interleaved (rep 1 of every case, then rep 2, ...) so that the noise of
 * a shared machine spreads over all cases. Reports medians; ratios come from the same run.
 *
 * Options: --quick, --reps=N, --sizes=100000,1000000, --cases=core,baseline,... (ids or
 * families), --profile (node --cpu-prof into bench/results/profiles/, the endpoint's too), --out=DIR, --list,
 * --endpoint-nice=N (the endpoint process's nice value, see below),
 * --against=REV (also run every cwbatch case on the build of git revision REV, alternated with
 * this tree's build rep by rep; reports head/base ratios; see ./lib/against.mjs).
 */
import { execFileSync, fork } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, setPriority, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderMarkdown, renderSvg, summarize, evaluateTargets, againstRatios } from './lib/report.mjs';
import { prepareAgainst } from './lib/against.mjs';

const benchDir = dirname(fileURLToPath(import.meta.url));
const root = resolve(benchDir, '..');

// ------------------------------------------------------------------------------------ options
const argv = process.argv.slice(2);
const flag = (name) => argv.includes(`--${name}`);
/** `--name=VALUE` or `--name VALUE`. */
const value = (name) => {
  const joined = argv.find((a) => a.startsWith(`--${name}=`));
  if (joined !== undefined) return joined.slice(name.length + 3);
  const at = argv.indexOf(`--${name}`);
  return at !== -1 && at + 1 < argv.length && !argv[at + 1].startsWith('--') ? argv[at + 1] : undefined;
};
const quick = flag('quick');
const sizes = (value('sizes') ?? (quick ? '100000' : '100000,1000000')).split(',').map(Number);
const outDir = resolve(value('out') ?? join(benchDir, 'results'));
const profile = flag('profile');
const against = value('against');
/**
 * --endpoint-nice=N: the endpoint process's nice value (0-19). On a machine with few cores the
 * endpoint (as busy per event as the producer: it parses every body) competes with the client's
 * threads for CPU; at 19 it runs mostly on what they leave idle, as an endpoint on another
 * machine would. The client's own CPU figures do not change with it; its loop and events/s do.
 */
const endpointNice = value('endpoint-nice') === undefined ? 0 : Number(value('endpoint-nice'));
if (!Number.isInteger(endpointNice) || endpointNice < 0 || endpointNice > 19) {
  throw new RangeError(`Expected --endpoint-nice to be an integer from 0 to 19, got ${value('endpoint-nice')}`);
}

/**
 * The cases. `family` groups a cwbatch case with what it is compared to; `slow` cases get fewer
 * repetitions at 1,000,000 events (they take minutes each).
 */
const CASES = [
  { id: 'baseline', family: 'core', label: 'raw SDK loop (baseline)', file: 'baseline.mjs' },
  { id: 'core', family: 'core', label: 'cwbatch core', file: 'core.mjs' },
  { id: 'core-try', family: 'core', label: 'cwbatch core, tryAdd()', file: 'core.mjs', options: { tryAdd: true } },
  { id: 'core-sdk-body', family: 'core', label: 'cwbatch core, fastBody: false (SDK serializer)', file: 'core.mjs', options: { flush: { fastBody: false } } },
  {
    id: 'core-8mib',
    family: 'memory',
    label: 'cwbatch core, maxBufferedBytes 8 MiB',
    file: 'core.mjs',
    options: { buffer: { maxBufferedBytes: 8 * 1024 * 1024 } },
  },
  {
    // Same as `core`, plus a heap probe when the burst has been logged (the buffer is then at its
    // bound): heapUsed before and after a full GC, and the bytes the buffer counts. The GC pauses
    // this case, so its events/s is not compared.
    id: 'core-heap',
    family: 'memory',
    label: 'cwbatch core, heap probe after the burst (full GC)',
    file: 'core.mjs',
    heapProbe: true,
  },
  // The local-file baselines (issue 20): what the same logger costs the application writing a file.
  { id: 'winston-file', family: 'winston', also: 'file', label: 'winston File transport (local file)', file: 'winston-file.mjs', cwbatch: false },
  { id: 'cwbatch-winston', family: 'winston', label: 'cwbatch/winston', file: 'cwbatch-winston.mjs', needs: 'dist/winston/index.js' },
  {
    // The transport's `burstRecords` (default Infinity) at 10,000: a synchronous burst leaves the
    // records past it to winston's stream, unformatted, as the File transport does (issue 20: the loop).
    id: 'cwbatch-winston-burst10k',
    family: 'winston',
    label: 'cwbatch/winston, burstRecords 10,000',
    file: 'cwbatch-winston.mjs',
    needs: 'dist/winston/index.js',
    options: { burstRecords: 10_000 },
  },
  { id: 'winston-cloudwatch', family: 'winston', label: 'winston-cloudwatch 6.3.0', file: 'winston-cloudwatch.mjs', cwbatch: false },
  { id: 'winston-aws-cloudwatch', family: 'winston', label: 'winston-aws-cloudwatch 3.0.0 (tuned)', file: 'winston-aws-cloudwatch.mjs', slow: true, cwbatch: false },
  { id: 'pino-file', family: 'pino', also: 'file', label: 'pino/file (local file, worker thread)', file: 'pino-file.mjs', cwbatch: false },
  { id: 'cwbatch-pino', family: 'pino', label: 'cwbatch/pino', file: 'cwbatch-pino.mjs', needs: 'dist/pino/index.js' },
  {
    // pino's worker with its young generation capped (Worker resourceLimits, through pino.transport's
    // `worker` option): V8 otherwise grows it to 128 MiB under cwbatch's allocation rate (issue 20: peak RSS).
    id: 'cwbatch-pino-young48',
    family: 'pino',
    label: 'cwbatch/pino, worker maxYoungGenerationSizeMb 48',
    file: 'cwbatch-pino.mjs',
    needs: 'dist/pino/index.js',
    options: { worker: { resourceLimits: { maxYoungGenerationSizeMb: 48 } } },
  },
  { id: 'pino-cloudwatch', family: 'pino', label: 'pino-cloudwatch 0.7.0', file: 'pino-cloudwatch.mjs', slow: true, cwbatch: false },
  {
    id: 'serdnam-pino-cloudwatch-transport',
    family: 'pino',
    label: '@serdnam/pino-cloudwatch-transport 1.0.4',
    file: 'serdnam-pino-cloudwatch-transport.mjs',
    slow: true,
    cwbatch: false,
  },
  // cwbatch/otel and cwbatch/emf, compared with `baseline` (the raw SDK loop) in the same run.
  { id: 'cwbatch-otel', family: 'otel', label: 'cwbatch/otel (sdk-logs BatchLogRecordProcessor)', file: 'cwbatch-otel.mjs', needs: 'dist/otel/index.js', minNode: [22, 15] },
  { id: 'cwbatch-emf', family: 'emf', label: 'cwbatch/emf (one EMF line per event)', file: 'cwbatch-emf.mjs', needs: 'dist/emf/index.js' },
];

if (flag('list')) {
  for (const c of CASES) console.log(`${c.id.padEnd(36)} ${c.family.padEnd(8)} ${c.label}`);
  process.exit(0);
}
const wanted = value('cases')?.split(',');
const selected = CASES.filter((c) => wanted === undefined || wanted.includes(c.id) || wanted.includes(c.family) || wanted.includes(c.also));

function repsFor(c, n) {
  const forced = value('reps');
  if (forced !== undefined) return Number(forced);
  if (quick) return c.slow ? 1 : 3;
  if (n >= 1_000_000) return c.slow ? 1 : 3;
  return c.slow ? 3 : 5;
}

// ------------------------------------------------------------------------- build and install
function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

function ensureBuilt() {
  const marker = join(root, 'dist', 'batch', 'index.js');
  const stale = !existsSync(marker) || newestMtime(join(root, 'src')) > statSync(marker).mtimeMs;
  if (!stale) return;
  console.log('bench: building cwbatch (dist/ missing or older than src/) ...');
  try {
    execFileSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' });
  } catch (error) {
    if (!existsSync(marker)) throw error;
    console.warn('bench: WARNING: the build failed; benchmarking the dist/ already there');
  }
}

function ensureDeps() {
  const pkg = JSON.parse(readFileSync(join(benchDir, 'package.json'), 'utf8'));
  // Look for the files, not require.resolve: some packages' "exports" hide their package.json.
  const missing = Object.keys(pkg.dependencies).filter((name) => !existsSync(join(benchDir, 'node_modules', name, 'package.json')));
  if (missing.length === 0) return;
  console.log(`bench: installing bench/'s own dependencies (missing: ${missing.join(', ')}) ...`);
  const lock = existsSync(join(benchDir, 'package-lock.json'));
  execFileSync('npm', [lock ? 'ci' : 'install', '--no-audit', '--no-fund', '--ignore-scripts'], { cwd: benchDir, stdio: 'inherit' });
}

// ------------------------------------------------------------------------------ the endpoint
function startEndpoint() {
  // --profile: the endpoint too (endpoint.cpuprofile), to see whether it, not the client, was the bottleneck.
  const execArgv = profile ? ['--cpu-prof', `--cpu-prof-dir=${join(outDir, 'profiles')}`, '--cpu-prof-name=endpoint.cpuprofile'] : [];
  const child = fork(join(benchDir, 'lib', 'endpoint.mjs'), [root], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  if (endpointNice !== 0) setPriority(child.pid, endpointNice);
  // IPC keeps order: answers of one type resolve their questions first in, first out.
  const waiters = new Map();
  child.on('message', (m) => {
    if (m.type === 'error') console.error('bench: endpoint error:', m.message);
    waiters.get(m.type)?.shift()?.(m);
  });
  const expect = (type) =>
    new Promise((resolve) => {
      if (!waiters.has(type)) waiters.set(type, []);
      waiters.get(type).push(resolve);
    });
  return {
    child,
    ready: expect('listening'),
    reset: (n, group, stream) => {
      const p = expect('reset-done');
      child.send({ type: 'reset', n, group, stream });
      return p;
    },
    stats: () => {
      const p = expect('stats');
      child.send({ type: 'stats' });
      return p;
    },
    close: () => child.send({ type: 'close' }),
  };
}

// -------------------------------------------------------------------------------- one run
function childEnv(url) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    // No real credentials, profiles or endpoints from the caller's environment.
    if (!k.startsWith('AWS_') && k !== 'NODE_OPTIONS') env[k] = v;
  }
  return {
    ...env,
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_ENDPOINT_URL_CLOUDWATCH_LOGS: url,
    AWS_ENDPOINT_URL: url,
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE: '1',
  };
}

async function runOnce(endpoint, url, c, n, rep) {
  const group = 'cwbatch-bench';
  const stream = `${c.id}-${n}-${rep}`;
  await endpoint.reset(n, group, stream);
  const deadlineMs = n >= 1_000_000 ? 900_000 : 300_000;
  const args = {
    // A case of the --against build runs the same case file from a copy of bench/ whose
    // node_modules/cwbatch is that build (see ./lib/against.mjs).
    caseFile: join(c.casesDir ?? join(benchDir, 'cases'), c.file),
    n,
    url,
    group,
    stream,
    options: c.options,
    heapProbe: c.heapProbe === true,
    stallMs: 15_000,
    deadlineMs,
  };
  const execArgv = ['--require', join(benchDir, 'lib', 'loopback-guard.cjs'), '--max-old-space-size=8192'];
  // pino's worker writes its own profile (see ./lib/profiled-target.mjs), beside the main thread's.
  if (profile) args.workerProfile = join(outDir, 'profiles', `${c.id}-${n}-${rep}`, 'worker.cpuprofile');
  if (c.heapProbe) execArgv.push('--expose-gc');
  if (profile) {
    // One folder per run, names left to Node: a fixed --cpu-prof-name made pino's worker thread
    // and the main thread write the same file (one profile lost). Node names each thread's file
    // CPU.<date>.<time>.<pid>.<thread id>.<seq>.cpuprofile (thread 0: the main thread).
    const dir = join(outDir, 'profiles', `${c.id}-${n}-${rep}`);
    mkdirSync(dir, { recursive: true });
    execArgv.push('--cpu-prof', `--cpu-prof-dir=${dir}`);
  }
  const child = fork(join(benchDir, 'lib', 'child.mjs'), [JSON.stringify(args)], {
    cwd: benchDir,
    env: childEnv(url),
    execArgv,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let output = '';
  const keep = (chunk) => {
    output = (output + chunk.toString()).slice(-4000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  let result;
  let error;
  let refusals = 0;
  child.on('message', (m) => {
    if (m.type === 'stats?') {
      void endpoint.stats().then((s) => child.connected && child.send(s));
    } else if (m.type === 'result') {
      result = m;
    } else if (m.type === 'error') {
      error = m.message;
    } else if (m.type === 'network-refused') {
      refusals++;
    }
  });
  const killer = setTimeout(() => child.kill('SIGKILL'), deadlineMs + 120_000);
  const code = await new Promise((resolve) => child.on('exit', (c2, signal) => resolve(c2 ?? signal)));
  clearTimeout(killer);
  const stats = await endpoint.stats();
  const run = { case: c.id, n, rep, exit: code, endpoint: stats, output: output.trim() };
  if (result === undefined) {
    run.outcome = 'crashed';
    run.error = error ?? `exit ${code}`;
    return run;
  }
  Object.assign(run, result, { networkRefusals: Math.max(refusals, result.networkRefusals) });
  if (result.local !== undefined) {
    // A file baseline: delivered means the lines in its file (counted by the child), nothing reached the endpoint.
    const lines = result.local.lines;
    run.endpoint = { expected: n, unique: lines, duplicates: 0, lost: n - lines, requests: 0, putLogEventsRequests: 0, storedPuts: 0, eventsInPuts: 0, meanMessageBytes: null };
    stats.unique = lines;
    stats.storedPuts = 0;
    stats.lastNewEventAt = result.tDone;
  }
  // The producer's time in the log loop: the wall time of the loop of log calls, awaited back-pressure included.
  run.loopSeconds = (result.tLogged - result.t0) / 1000;
  const seconds = (stats.lastNewEventAt - result.t0) / 1000;
  run.eventsPerSecond = stats.unique > 0 && seconds > 0 ? stats.unique / seconds : 0;
  run.cpuSeconds = (result.cpuUserUs + result.cpuSystemUs) / 1e6;
  // The application's thread alone (Node >= 23.9), to the end and in the loop; the rest is the process's other threads (pino's worker).
  run.mainThreadCpuSeconds = Number.isFinite(result.mainThreadCpuUs) ? result.mainThreadCpuUs / 1e6 : null;
  run.mainThreadLoopCpuSeconds = Number.isFinite(result.mainThreadLoopCpuUs) ? result.mainThreadLoopCpuUs / 1e6 : null;
  // The endpoint's own CPU during this run (its process; it competes with the client's threads for the cores).
  run.endpointCpuSeconds = typeof stats.cpuUs === 'number' ? stats.cpuUs / 1e6 : null;
  run.cpuSecondsPerMillion = stats.unique > 0 ? (run.cpuSeconds / stats.unique) * 1e6 : null;
  run.meanBatch = stats.storedPuts > 0 ? stats.eventsInPuts / stats.storedPuts : 0;
  return run;
}

// -------------------------------------------------------------------------------------- main
async function main() {
  ensureBuilt();
  ensureDeps();
  const available = selected.filter((c) => {
    if (c.needs !== undefined && !existsSync(join(root, c.needs))) {
      console.log(`bench: skipping ${c.id}: ${c.needs} not built (not in src/ yet)`);
      return false;
    }
    const [major, minor] = process.versions.node.split('.').map(Number);
    if (c.minNode !== undefined && (major < c.minNode[0] || (major === c.minNode[0] && minor < c.minNode[1]))) {
      console.log(`bench: skipping ${c.id}: needs Node >= ${c.minNode.join('.')} (@opentelemetry/sdk-logs 3.x), this is ${process.version}`);
      return false;
    }
    return existsSync(join(benchDir, 'cases', c.file));
  });
  const skipped = selected.filter((c) => !available.includes(c)).map((c) => c.id);
  // --against: each cwbatch case also runs on that revision's build, as `<id>@base`.
  const base = against === undefined ? undefined : prepareAgainst({ root, benchDir, rev: against });
  const baseCases = new Map();
  if (base !== undefined) {
    for (const c of available) {
      if (c.cwbatch === false) continue;
      if (c.needs !== undefined && !existsSync(join(base.root, c.needs))) {
        console.log(`bench: --against: ${c.id} not compared: ${c.needs} not in ${base.short}`);
        continue;
      }
      baseCases.set(c.id, { ...c, id: `${c.id}@base`, label: `${c.label} @ ${base.short}`, casesDir: base.casesDir, baseOf: c.id });
    }
    console.log(`bench: --against ${against} (${base.short}): ${[...baseCases.keys()].join(', ') || 'no case'} run on both builds, alternated`);
  }
  const loadStart = loadavg();
  const endpoint = startEndpoint();
  const { url } = await endpoint.ready;
  console.log(`bench: endpoint ${url} (own process, faults off, bodies not kept)`);
  mkdirSync(outDir, { recursive: true });
  const runs = [];
  const started = Date.now();
  for (const n of sizes) {
    const maxReps = Math.max(...available.map((c) => repsFor(c, n)));
    for (let rep = 1; rep <= maxReps; rep++) {
      const order = available.flatMap((c) => {
        const other = baseCases.get(c.id);
        if (rep > repsFor(c, n)) return [];
        // Alternated: head first in odd reps, the base build first in even ones.
        return other === undefined ? [c] : rep % 2 === 1 ? [c, other] : [other, c];
      });
      for (const c of order) {
        const run = await runOnce(endpoint, url, c, n, rep);
        runs.push(run);
        const eps = run.eventsPerSecond === undefined ? '-' : Math.round(run.eventsPerSecond).toLocaleString('en-US');
        console.log(
          `  ${c.id.padEnd(34)} n=${n.toLocaleString('en-US').padStart(9)} rep ${rep}: ${eps.padStart(9)} ev/s, ` +
            `cpu ${run.cpuSeconds?.toFixed(2) ?? '-'} s (main thread ${run.mainThreadCpuSeconds?.toFixed(2) ?? '-'}), ` +
            `loop ${run.loopSeconds?.toFixed(2) ?? '-'} s (main thread CPU ${run.mainThreadLoopCpuSeconds?.toFixed(2) ?? '-'}), endpoint cpu ${run.endpointCpuSeconds?.toFixed(2) ?? '-'} s, peak RSS ${run.peakRss ? (run.peakRss / 2 ** 20).toFixed(0) : '-'} MiB, ` +
            `lost ${run.endpoint.lost}, dup ${run.endpoint.duplicates}, ${run.outcome}`,
        );
        if (run.outcome !== 'complete' && run.output) console.log(`    output: ${run.output.split('\n').slice(-3).join(' | ')}`);
      }
    }
  }
  endpoint.close();
  base?.remove();
  const allCases = [...CASES.flatMap((c) => (baseCases.has(c.id) ? [c, baseCases.get(c.id)] : [c]))];
  const meta = {
    date: new Date().toISOString(),
    node: process.version,
    machine: { nproc: cpus().length, cpu: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30) },
    command: `npm run bench${argv.length ? ` -- ${argv.join(' ')}` : ''}`,
    quick,
    sizes,
    skipped,
    durationSeconds: Math.round((Date.now() - started) / 1000),
    // How loaded the (shared) machine was: 1/5/15-minute load averages at the start and the end.
    loadavg: { start: loadStart.map((x) => Number(x.toFixed(2))), end: loadavg().map((x) => Number(x.toFixed(2))) },
    endpointNice,
    against: base === undefined ? undefined : { rev: base.rev, commit: base.commit, short: base.short, dependencies: base.dependencies },
    cases: Object.fromEntries(allCases.map((c) => [c.id, { label: c.label, family: c.family, baseOf: c.baseOf }])),
  };
  const summary = summarize(runs, allCases);
  const targets = evaluateTargets(summary);
  if (base !== undefined) meta.againstRatios = againstRatios(runs, summary, [...baseCases.values()]);
  const stem = `${quick ? 'quick' : 'full'}${base === undefined ? '' : `-vs-${base.short}`}`;
  writeFileSync(join(outDir, `${stem}.json`), `${JSON.stringify({ meta, summary, targets, runs }, null, 2)}\n`);
  const markdown = renderMarkdown(meta, summary, targets);
  writeFileSync(join(outDir, `${stem}.md`), markdown);
  writeFileSync(join(outDir, `${stem}.svg`), renderSvg(meta, summary));
  console.log(`\n${markdown}`);
  console.log(`bench: wrote ${join(outDir, `${stem}.{json,md,svg}`)}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
