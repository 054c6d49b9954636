#!/usr/bin/env node
/**
 * bench:core's measurements for two builds of the core, alternated in one run: the way to tell
 * whether a change (a refactor, say) made add() slower on a machine whose speed drifts. Usage:
 *
 *   node bench/compare-core.mjs --base /tmp/base/dist [--head dist] [--events N] [--rounds N]
 *
 * Throughput: for each stream count (1 and 1,000, as bench:core), one fresh process loads both
 * builds and alternates rounds of N awaited add() (120-byte ASCII events, no-op flush function),
 * flipping which goes first each round, so that drift falls on both alike. Reports each build's
 * median events/s, the spread (min..max), and the median of the paired ratios head/base (each
 * head round over the base round beside it). Memory per buffered event: bench/core.mjs's child,
 * run alternately for each build, medians.
 *
 * Both builds run in one process and share its heap: what one build's rounds leave for the
 * collector is collected during the other's. A difference in garbage then lands on both, or on
 * the wrong one (Node 22, 2026-12-05: head/base events per CPU second 0.75x with 1 stream and
 * 1.13x with 1,000, where instructions.mjs, one process per build, counted 0.85x and 1.16x the
 * instructions per add(): the opposite verdict both times).
 * To settle a few percent, count instructions (instructions.mjs).
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { relaunchWithExposedGc } from './lib/expose-gc.mjs';
import { median } from './lib/report.mjs';
import { coreRound, timedRound } from './lib/core-round.mjs';

relaunchWithExposedGc(import.meta.url);

const { values: opts } = parseArgs({
  options: {
    base: { type: 'string' },
    head: { type: 'string', default: 'dist' },
    events: { type: 'string', default: '300000' },
    rounds: { type: 'string', default: '15' },
    'memory-runs': { type: 'string', default: '3' },
    streams: { type: 'string' },
  },
});
if (opts.base === undefined) throw new Error('--base DIR (the dist folder of the build to compare against) is required');


if (opts.streams !== undefined) {
  // Child: one stream count, both builds in this process.
  const load = async (dir) => (await import(pathToFileURL(`${resolve(dir)}/batch/index.js`).href)).BatchBufferImpl;
  const builds = { base: await load(opts.base), head: await load(opts.head) };
  const N = Number(opts.events);
  const streamCount = Number(opts.streams);
  const rounds = { base: coreRound(builds.base, streamCount), head: coreRound(builds.head, streamCount) };
  const round = (which) => timedRound(rounds[which], N);
  await round('base');
  await round('head');
  const rates = { base: [], head: [] };
  const cpu = { base: [], head: [] };
  const paired = [];
  const pairedCpu = [];
  for (let r = 0; r < Number(opts.rounds); r++) {
    const order = r % 2 === 0 ? ['base', 'head'] : ['head', 'base'];
    const got = {};
    for (const which of order) got[which] = await round(which);
    for (const which of ['base', 'head']) {
      rates[which].push(got[which].wall);
      cpu[which].push(got[which].cpu);
    }
    paired.push(got.head.wall / got.base.wall);
    pairedCpu.push(got.head.cpu / got.base.cpu);
  }
  process.stdout.write(JSON.stringify({ rates, paired, cpu, pairedCpu }) + '\n');
  process.exit(0);
}

const fmt = (x) => Math.round(x).toLocaleString('en-US');
const spread = (xs) => `${fmt(Math.min(...xs))}..${fmt(Math.max(...xs))}`;
console.log(`compare-core: base ${opts.base} vs head ${opts.head}; ${opts.events} awaited add() per round, ${opts.rounds} rounds each, alternated (Node ${process.version})`);
for (const streamCount of [1, 1000]) {
  const child = spawnSync(
    process.execPath,
    ['--expose-gc', fileURLToPath(import.meta.url), '--streams', String(streamCount), '--base', opts.base, '--head', opts.head, '--events', opts.events, '--rounds', opts.rounds],
    { encoding: 'utf8', maxBuffer: 1 << 22 },
  );
  if (child.status !== 0) throw new Error(`child (${streamCount} streams) failed: ${child.stderr}`);
  const { rates, paired, cpu, pairedCpu } = JSON.parse(child.stdout.trim().split('\n').at(-1));
  const line = (label, r, p) => {
    const sorted = [...p].sort((a, b) => a - b);
    console.log(
      `  ${String(streamCount).padStart(4)} stream(s), ${label}: base ${fmt(median(r.base))} ev/s [${spread(r.base)}]  head ${fmt(median(r.head))} ev/s [${spread(r.head)}]` +
        `  head/base: ratio of medians ${(median(r.head) / median(r.base)).toFixed(3)}, median paired ${median(p).toFixed(3)} [${sorted[0].toFixed(3)}..${sorted.at(-1).toFixed(3)}]`,
    );
  };
  line('wall', rates, paired);
  line('CPU ', cpu, pairedCpu);
}
const core = fileURLToPath(new URL('core.mjs', import.meta.url));
const memory = { base: [], head: [] };
for (let r = 0; r < Number(opts['memory-runs']); r++) {
  for (const which of r % 2 === 0 ? ['base', 'head'] : ['head', 'base']) {
    const child = spawnSync(process.execPath, ['--expose-gc', core, '--memory', 'core', '--dist', opts[which]], { encoding: 'utf8' });
    if (child.status !== 0) throw new Error(`memory child failed: ${child.stderr}`);
    memory[which].push(JSON.parse(child.stdout.trim().split('\n').at(-1)).perEvent);
  }
}
console.log(`  memory per buffered event: base ${median(memory.base).toFixed(1)} B  head ${median(memory.head).toFixed(1)} B  head/base ${(median(memory.head) / median(memory.base)).toFixed(3)}`);
