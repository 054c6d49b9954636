#!/usr/bin/env node
/**
 * `npm run bench:core` itself for two builds of the core, run alternately, each run a fresh set
 * of processes: the check for "bench:core within 3% of the commit before, measured in the same
 * run" (issue 14). Usage:
 *
 *   node bench/core-alternate.mjs --base OTHER/dist [--head dist] [--pairs 8] [--rounds 5]
 *
 * Each run is `bench/core.mjs --json --dist DIR` (this tree's bench, the given build): its figure
 * is the core's events/s over its baseline's in the same process (per second of wall time, and
 * per second of CPU time), for 1 and 1,000 streams, and the memory per buffered event. Pairs
 * alternate which build runs first. Reports each build's median, head/base of the medians and
 * the median of the paired ratios (each head run over the base run beside it).
 *
 * Why this and not only compare-core.mjs or instructions.mjs: each run of Node decides for
 * itself, by chance of timing, whether V8 allocates the buffered events in the old generation
 * (allocation-site pretenuring). With 1,000 streams a run then lands in one of two modes (Node 24,
 * 2026-12-06: about 4.9 or about 3.1 million adds/s; both ~2.9 with
 * `--no-allocation-site-pretenuring`), and a build's figure is how often it lands in the fast one.
 * One process (compare-core) sees one draw for both builds; cachegrind's repeatable runs
 * (single-threaded, a fixed young generation) see one regime, not the odds.
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { median } from './lib/report.mjs';

const { values: opts } = parseArgs({
  options: {
    base: { type: 'string' },
    head: { type: 'string', default: 'dist' },
    pairs: { type: 'string', default: '8' },
    rounds: { type: 'string', default: '5' },
  },
});
if (opts.base === undefined) throw new Error('--base DIR (the dist folder of the build to compare against) is required');
const pairs = Number(opts.pairs);
if (!Number.isInteger(pairs) || pairs < 1) throw new RangeError(`--pairs must be a positive integer, got ${opts.pairs}`);

const core = fileURLToPath(new URL('core.mjs', import.meta.url));
const dists = { base: resolve(opts.base), head: resolve(opts.head) };

/** The figures of one `bench/core.mjs` run of `which` build (higher is better, except memory). */
function runOnce(which) {
  const child = spawnSync(process.execPath, [core, '--json', '--rounds', opts.rounds, '--dist', dists[which]], { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (child.status !== 0) throw new Error(`bench/core.mjs (${which}: ${dists[which]}) failed (status ${child.status}, signal ${child.signal}): ${child.stderr}`);
  const { throughput, memory } = JSON.parse(child.stdout);
  const one = throughput['1 stream'];
  const many = throughput['1000 streams'];
  return {
    '1 stream, wall': one.ratio,
    '1 stream, CPU': one.cpu.ratio,
    '1,000 streams, wall': many.ratio,
    '1,000 streams, CPU': many.cpu.ratio,
    'bytes per buffered event': memory.core,
  };
}

console.log(`bench:core, base ${dists.base} vs head ${dists.head}: ${pairs} pairs of runs, ${opts.rounds} rounds each (Node ${process.version})`);
const runs = { base: [], head: [] };
for (let p = 0; p < pairs; p++) {
  for (const which of p % 2 === 0 ? ['base', 'head'] : ['head', 'base']) {
    const figures = runOnce(which);
    runs[which].push(figures);
    console.log(`  pair ${p + 1} ${which.padEnd(4)} ${Object.values(figures).map((x) => x.toFixed(2).padStart(7)).join(' ')}`);
  }
}
console.log('  figure (core over baseline; bytes)   base    head  head/base  paired median (range)');
for (const key of Object.keys(runs.base[0])) {
  const base = median(runs.base.map((r) => r[key]));
  const head = median(runs.head.map((r) => r[key]));
  const paired = runs.head.map((r, i) => r[key] / runs.base[i][key]);
  console.log(
    `  ${key.padEnd(34)} ${base.toFixed(3).padStart(6)}  ${head.toFixed(3).padStart(6)}  ${(head / base).toFixed(3).padStart(9)}  ${median(paired).toFixed(3)} (${Math.min(...paired).toFixed(2)}-${Math.max(...paired).toFixed(2)})`,
  );
}
