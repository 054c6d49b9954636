#!/usr/bin/env node
/**
 * Where the peak RSS of pino -> cwbatch/pino goes, beside pino -> pino/file (issue 20): the same
 * logger, records and `pino.transport({ sync: true })` as the bench's `cwbatch-pino` and
 * `pino-file` cases, each target wrapped in lib/memory-target.mjs, which samples the worker
 * thread's memory; the application's thread samples its own. Prints, per run, the process's peak
 * RSS and each thread's peak V8 heap (new and old space) and external memory, in MiB.
 *
 *   npm run build && node bench/pino-memory.mjs [--events N] [--runs N]
 *
 * The cwbatch endpoint is cwbatch/local in its own process on loopback (not counted). Session 11,
 * Node 24.22.3: RSS 165 MiB for pino/file, ~380 for cwbatch/pino; the application's thread the
 * same in both (new space 64 MiB); pino/file's worker heap 18 MiB, cwbatch/pino's ~200 MiB, of
 * which new space 128 MiB (its young generation grown to V8's maximum).
 */
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { tempLogFile } from './lib/local-file.mjs';
import { memoryPeaks } from './lib/memory-peaks.mjs';
import { TEXT, fields } from './lib/message.mjs';
import { cwbatchPinoOptions, embeddedEndpoint, endTransport } from './lib/pino-run.mjs';

const { values: opts } = parseArgs({
  options: { events: { type: 'string', default: '1000000' }, runs: { type: 'string', default: '2' }, one: { type: 'string' } },
});
const root = fileURLToPath(new URL('..', import.meta.url));
const memoryTarget = fileURLToPath(new URL('./lib/memory-target.mjs', import.meta.url));

async function run(kind, events) {
  const dir = tempLogFile('pino.log');
  const out = `${dir.path}.peaks.json`;
  const endpoint = kind === 'cwbatch/pino' ? await embeddedEndpoint(root) : undefined;
  try {
    const options =
      endpoint === undefined
        ? { $target: 'pino/file', $out: out, destination: dir.path }
        : { $target: `${root}dist/pino/index.js`, $out: out, ...cwbatchPinoOptions(endpoint.url, '/bench/pino-memory') };
    const transport = pino.transport({ target: memoryTarget, sync: true, options });
    await once(transport, 'ready');
    const logger = pino({}, transport);
    const main = memoryPeaks();
    const before = process.memoryUsage().rss;
    for (let i = 0; i < events; i++) {
      logger.info(fields(i), TEXT);
      if ((i & 1023) === 0) main.sample();
    }
    await endTransport(transport);
    main.sample();
    return { before, main: main.get(), worker: JSON.parse(readFileSync(out, 'utf8')) };
  } finally {
    endpoint?.stop();
    dir.remove();
  }
}

// A child process measures one target (each run in a fresh process, as the bench runs its cases).
if (opts.one !== undefined) {
  process.stdout.write(`${JSON.stringify(await run(opts.one, Number(opts.events)))}\n`);
  process.exit(0);
}

const mib = (bytes) => String(Math.round(bytes / 1_048_576));
console.log(`pino -> file vs pino -> cwbatch/pino, ${Number(opts.events).toLocaleString('en-US')} lines, sync: true, Node ${process.version}; MiB`);
console.log('target        RSS before  peak | app thread: heap  new  old  external | worker: heap  new  old  large  external  ArrayBuffers');
for (let r = 0; r < Number(opts.runs); r++) {
  for (const kind of ['pino/file', 'cwbatch/pino']) {
    const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--one', kind, '--events', opts.events], { encoding: 'utf8', maxBuffer: 1 << 20 });
    if (child.status !== 0) throw new Error(`${kind} failed: ${child.stderr}`);
    const { before, main, worker } = JSON.parse(child.stdout.trim().split('\n').at(-1));
    const peak = Math.max(main.rss, worker.rss);
    console.log(
      `${kind.padEnd(13)} ${mib(before).padStart(10)} ${mib(peak).padStart(5)} | ${mib(main.heapTotal).padStart(16)} ${mib(main.newSpace).padStart(4)} ${mib(main.oldSpace).padStart(4)} ${mib(main.external).padStart(9)} | ${mib(worker.heapTotal).padStart(12)} ${mib(worker.newSpace).padStart(4)} ${mib(worker.oldSpace).padStart(4)} ${mib(worker.largeObjects).padStart(6)} ${mib(worker.external).padStart(9)} ${mib(worker.arrayBuffers).padStart(13)}`,
    );
  }
}
