#!/usr/bin/env node
/**
 * Is cwbatch/pino's producer loop held back by the endpoint sharing the machine? (issue 20)
 *
 *   npm run build && node bench/pino-loop.mjs [--runs=3] [--events=1000000]
 *
 * Runs pino -> pino/file, pino -> cwbatch/pino against a null endpoint, and pino -> cwbatch/pino
 * against cwbatch's embedded endpoint, alternated, each run in a fresh process, `sync: true` as in
 * the bench's cases. The null endpoint (a process of its own) reads each request and answers
 * PutLogEvents' empty success (`{}`) without parsing or storing anything: what is left of the
 * loop against it is the client's own cost. Prints each run and the medians: the producer's
 * time in the loop of log calls, the process's CPU (all threads), peak RSS. Nothing is checked
 * against the null endpoint (it counts nothing); `npm run bench` checks delivery.
 */
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { tempLogFile } from './lib/local-file.mjs';
import { TEXT, fields } from './lib/message.mjs';
import { cwbatchPinoOptions, embeddedEndpoint, endpointProcess, endTransport } from './lib/pino-run.mjs';
import { median } from './lib/report.mjs';

const { values: opts } = parseArgs({
  options: { runs: { type: 'string', default: '3' }, events: { type: 'string', default: '1000000' }, one: { type: 'string' }, 'null-endpoint': { type: 'boolean' } },
});
const self = fileURLToPath(import.meta.url);
const root = fileURLToPath(new URL('..', import.meta.url));

// The null endpoint's process.
if (opts['null-endpoint']) {
  const { createServer } = await import('node:http');
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': 'null' });
      res.end('{}');
    });
  });
  server.listen(0, '127.0.0.1', () => console.log(`http://127.0.0.1:${server.address().port}`));
} else if (opts.one !== undefined) {
  process.stdout.write(`${JSON.stringify(await run(opts.one, Number(opts.events)))}\n`);
  process.exit(0);
} else {
  await main();
}

/** One run in this process: `file`, `cwbatch-null` or `cwbatch-local`. */
async function run(kind, events) {
  const file = tempLogFile('pino.log');
  const endpoint = kind === 'file' ? undefined : kind === 'cwbatch-null' ? await endpointProcess([self, '--null-endpoint']) : await embeddedEndpoint(root);
  try {
    const transport =
      endpoint === undefined
        ? pino.transport({ target: 'pino/file', sync: true, options: { destination: file.path } })
        : pino.transport({ target: `${root}dist/pino/index.js`, sync: true, options: cwbatchPinoOptions(endpoint.url, '/bench/pino-loop') });
    await once(transport, 'ready');
    const logger = pino({}, transport);
    const cpu = process.cpuUsage();
    const start = performance.now();
    for (let i = 0; i < events; i++) logger.info(fields(i), TEXT);
    const loop = (performance.now() - start) / 1000;
    await endTransport(transport);
    const used = process.cpuUsage(cpu);
    return { kind, loop, cpu: (used.user + used.system) / 1e6, rss: process.resourceUsage().maxRSS * 1024 };
  } finally {
    endpoint?.stop();
    file.remove();
  }
}

async function main() {
  const kinds = ['file', 'cwbatch-null', 'cwbatch-local'];
  const results = new Map(kinds.map((k) => [k, []]));
  console.log(`pino (sync: true) -> a local file, cwbatch/pino -> a null endpoint, cwbatch/pino -> the embedded endpoint; ${Number(opts.events).toLocaleString('en-US')} lines, Node ${process.version}`);
  for (let r = 0; r < Number(opts.runs); r++) {
    for (const kind of kinds) {
      const child = spawnSync(process.execPath, [self, '--one', kind, '--events', opts.events], { encoding: 'utf8', maxBuffer: 1 << 20 });
      if (child.status !== 0) throw new Error(`${kind} failed: ${child.stderr}`);
      const result = JSON.parse(child.stdout.trim().split('\n').at(-1));
      results.get(kind).push(result);
      console.log(`  ${kind.padEnd(14)} loop ${result.loop.toFixed(2)} s, CPU ${result.cpu.toFixed(2)} s, peak RSS ${Math.round(result.rss / 2 ** 20)} MiB`);
    }
  }
  const file = results.get('file');
  const base = { loop: median(file.map((x) => x.loop)), cpu: median(file.map((x) => x.cpu)), rss: median(file.map((x) => x.rss)) };
  console.log('medians (and against the file):');
  for (const kind of kinds) {
    const list = results.get(kind);
    const m = { loop: median(list.map((x) => x.loop)), cpu: median(list.map((x) => x.cpu)), rss: median(list.map((x) => x.rss)) };
    console.log(
      `  ${kind.padEnd(14)} loop ${m.loop.toFixed(2)} s (${(m.loop / base.loop).toFixed(2)}x), CPU ${m.cpu.toFixed(2)} s (${(m.cpu / base.cpu).toFixed(2)}x), peak RSS ${Math.round(m.rss / 2 ** 20)} MiB (${(m.rss / base.rss).toFixed(2)}x)`,
    );
  }
}
