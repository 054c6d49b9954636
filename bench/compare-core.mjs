#!/usr/bin/env node
/**
 * bench:core for two builds, alternated in one run (a noisy machine drifts; alternating spreads
 * the drift over both). Usage:
 *
 *   node bench/compare-core.mjs --base /tmp/base-dist --head dist [--runs 4] [--events N] [--rounds N]
 *
 * Each run is one `bench/core.mjs --json --dist X` (its own processes, its own in-run baseline).
 * Prints, per case, the median over runs of the core's events/s (and of its ratio to the in-run
 * baseline, which cancels some of the machine's drift), the spread (min to max), and head/base.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values: opts } = parseArgs({
  options: {
    base: { type: 'string' },
    head: { type: 'string', default: 'dist' },
    runs: { type: 'string', default: '4' },
    events: { type: 'string', default: '1000000' },
    rounds: { type: 'string', default: '5' },
  },
});
if (opts.base === undefined) throw new Error('--base DIR (the dist folder of the build to compare against) is required');

const core = fileURLToPath(new URL('core.mjs', import.meta.url));
const samples = { base: [], head: [] };
for (let r = 0; r < Number(opts.runs); r++) {
  // Alternate which goes first, so neither always runs on the warmer (or busier) machine.
  const order = r % 2 === 0 ? ['base', 'head'] : ['head', 'base'];
  for (const which of order) {
    const child = spawnSync(
      process.execPath,
      [core, '--json', '--dist', opts[which], '--events', opts.events, '--rounds', opts.rounds],
      { encoding: 'utf8', maxBuffer: 1 << 22 },
    );
    if (child.stdout.trim() === '') throw new Error(`${which} run failed: ${child.stderr}`);
    const result = JSON.parse(child.stdout);
    samples[which].push(result);
    process.stderr.write(`run ${r + 1} ${which}: ${Object.entries(result.throughput).map(([k, v]) => `${k} ${Math.round(v.core)} ev/s (x${v.ratio.toFixed(3)})`).join(', ')}; memory ${result.memory.core.toFixed(1)} B\n`);
  }
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};
const fmt = (x) => Math.round(x).toLocaleString('en-US');
const spread = (xs) => `${fmt(Math.min(...xs))}..${fmt(Math.max(...xs))}`;

console.log(`bench:core, base ${opts.base} vs head ${opts.head}, ${opts.runs} runs each, alternated; ${opts.events} events x ${opts.rounds} rounds per run`);
for (const name of Object.keys(samples.base[0].throughput)) {
  const b = samples.base.map((s) => s.throughput[name].core);
  const h = samples.head.map((s) => s.throughput[name].core);
  const br = samples.base.map((s) => s.throughput[name].ratio);
  const hr = samples.head.map((s) => s.throughput[name].ratio);
  console.log(
    `  ${name.padEnd(11)} base ${fmt(median(b))} ev/s [${spread(b)}]  head ${fmt(median(h))} ev/s [${spread(h)}]  head/base ${(median(h) / median(b)).toFixed(3)}` +
      `  | ratio to in-run baseline: base ${median(br).toFixed(3)} head ${median(hr).toFixed(3)} (head/base ${(median(hr) / median(br)).toFixed(3)})`,
  );
}
const bm = samples.base.map((s) => s.memory.core);
const hm = samples.head.map((s) => s.memory.core);
console.log(`  memory per event: base ${median(bm).toFixed(1)} B  head ${median(hm).toFixed(1)} B  head/base ${(median(hm) / median(bm)).toFixed(3)}`);
