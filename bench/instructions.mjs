#!/usr/bin/env node
/**
 * bench:core's round counted in machine instructions, for two builds: a repeatable figure for
 * the add() path's own code on a shared, noisy machine (compare-core.mjs's timed rounds spread
 * over 0.4x-2.7x). It sees one regime only: with a fixed young generation and no helper threads,
 * V8's per-run chance of pretenuring the buffered events does not show, and that chance decides
 * bench:core's 1,000-stream figure (Node 24, 2026-12-06: 0.978x the instructions of 7bb2c45, but
 * 0.70x its events/s). Check a change with core-alternate.mjs (bench:core itself, alternated)
 * too. Usage:
 *
 *   node bench/instructions.mjs --base /tmp/base/dist [--head dist] [--streams 1,1000] [--events 300000,1300000]
 *
 * Each count is one process under valgrind's cachegrind (`--cache-sim=no`) with V8 made
 * repeatable (`--single-threaded --predictable`, a fixed young generation): the same build gives
 * the same total, run after run. The process runs a warm-up round (200,000 adds, then stop()) and
 * then a round of N awaited add() (lib/core-round.mjs, the round compare-core times), and exits
 * before that round's stop(). Instructions per add() are the difference between the two event
 * counts, divided by the difference in events: start-up, compilation and the warm-up cancel out.
 * The window is a million adds by default, as in bench:core's rounds: with 1,000 streams the
 * buffer fills (64 MiB, about 460,000 of these events) and is sent whole again and again, as it
 * is there. A shorter window can land on one collection or one tier-up more in one build than in
 * the other (on Node 26, 200,000 adds gave 1.19x where a million gave 0.95x, the same two builds).
 * Needs `valgrind` on the PATH.
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { coreRound } from './lib/core-round.mjs';

const { values: opts } = parseArgs({
  options: {
    base: { type: 'string' },
    head: { type: 'string', default: 'dist' },
    streams: { type: 'string', default: '1,1000' },
    events: { type: 'string', default: '300000,1300000' },
    child: { type: 'string' },
  },
});

if (opts.child !== undefined) {
  // Child: one build, one stream count, one event count.
  const [dist, streams, events] = opts.child.split(':');
  const { BatchBufferImpl } = await import(pathToFileURL(`${resolve(dist)}/batch/index.js`).href);
  const round = coreRound(BatchBufferImpl, Number(streams));
  await round(200_000);
  await round(Number(events), { stop: false });
  process.exit(0);
}

if (opts.base === undefined) throw new Error('--base DIR (the dist folder of the build to compare against) is required');
if (spawnSync('valgrind', ['--version']).status !== 0) throw new Error('valgrind is not on the PATH (apt install valgrind)');
const [low, high] = opts.events.split(',').map(Number);
if (!(low >= 0 && high > low)) throw new Error(`--events expects two counts, the lower first, got ${opts.events}`);

/** Instructions of one child process, as cachegrind totals them. */
function count(dist, streams, events) {
  const child = spawnSync(
    'valgrind',
    [
      '--tool=cachegrind',
      '--cache-sim=no',
      '--cachegrind-out-file=/dev/null',
      process.execPath,
      '--single-threaded',
      '--predictable',
      '--max-semi-space-size=64',
      fileURLToPath(import.meta.url),
      '--child',
      `${dist}:${streams}:${events}`,
    ],
    { encoding: 'utf8', maxBuffer: 1 << 24 },
  );
  const match = /I\s+refs:\s+([\d,]+)/.exec(child.stderr);
  if (child.status !== 0 || match === null) throw new Error(`cachegrind run failed (${dist}, ${streams} streams, ${events} events): ${child.stderr.slice(-2000)}`);
  return Number(match[1].replaceAll(',', ''));
}

console.log(`instructions per add(): base ${opts.base} vs head ${opts.head}; (I(${high}) - I(${low})) / ${high - low} events (Node ${process.version}, cachegrind)`);
for (const streams of opts.streams.split(',').map(Number)) {
  const per = {};
  for (const which of ['base', 'head']) per[which] = (count(opts[which], streams, high) - count(opts[which], streams, low)) / (high - low);
  console.log(`  ${String(streams).padStart(4)} stream(s): base ${per.base.toFixed(0)}  head ${per.head.toFixed(0)}  head/base ${(per.head / per.base).toFixed(3)}`);
}
