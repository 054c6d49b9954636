/**
 * One very long line through `cwbatch ship` (issue 21): memory stays bounded whatever the line's
 * length, and the line is delivered in parts, with the lines around it.
 *
 *   npm run build && node bench/long-line.mjs [--mb=600] [--limit-mb=200]
 *
 * Starts the embedded endpoint in this process, runs the BUILT `cwbatch ship` in a child whose
 * stdin gets "before\n", then --mb MiB of "x" without a newline, written as they are produced
 * (64 KiB at a time, waiting for the pipe), then "\nafter\n". The child reports its own peak RSS
 * at exit (getrusage, through a preloaded module). Checks: exit 0, "before" and "after" stored,
 * the parts (each at most 1,048,550 bytes, the largest message) join back to the line, and the
 * peak RSS is under --limit-mb. Exit code 1 when a check fails. Heavy (the endpoint keeps the
 * whole line in memory, about twice its size): run it once for a report, not in every CI run;
 * the suite runs a 60 MiB version (tests/integration/cli-hostile.test.ts).
 */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, fallback) => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback);
const mb = arg('mb', 600);
const limitMb = arg('limit-mb', 200);
const MAX_MESSAGE = 1_048_576 - 26;

const { startLocalEndpoint } = await import(pathToFileURL(join(root, 'dist', 'local', 'index.js')).href);
const endpoint = await startLocalEndpoint({ port: 0 });
const preload = 'data:text/javascript,import{writeSync}from"node:fs";process.on("exit",()=>writeSync(2,`peak-rss ${process.resourceUsage().maxRSS}\\n`))';

const started = Date.now();
const child = spawn(process.execPath, ['--import', preload, join(root, 'dist', 'cli', 'main.js'), 'ship', '-g', 'bench/long-line', '-s', 's'], {
  env: {
    PATH: process.env.PATH,
    AWS_ENDPOINT_URL_CLOUDWATCH_LOGS: endpoint.url,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  },
  stdio: ['pipe', 'inherit', 'pipe'],
});
let stderr = '';
child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
const exited = new Promise((resolve) => child.on('close', (code) => resolve(code)));

const write = (chunk) => new Promise((resolve) => (child.stdin.write(chunk) ? resolve() : child.stdin.once('drain', resolve)));
await write('before\n');
const block = Buffer.alloc(64 * 1024, 'x');
for (let i = 0; i < mb * 16; i++) await write(block);
child.stdin.end('\nafter\n');
const code = await exited;
const elapsed = Date.now() - started;

const events = endpoint.store.events('bench/long-line', 's');
const parts = events.slice(1, -1);
const partBytes = parts.reduce((n, e) => n + e.message.length, 0);
const checks = {
  'exit 0': code === 0,
  'before first': events[0]?.message === 'before',
  'after last': events.at(-1)?.message === 'after',
  'parts at most 1,048,550 bytes': parts.every((e) => e.message.length <= MAX_MESSAGE),
  'parts are the line': partBytes === mb * 1024 * 1024 && parts.every((e) => /^x*$/.test(e.message)),
};
const peakMb = Number(/peak-rss (\d+)/.exec(stderr)?.[1]) / 1024;
checks[`peak RSS under ${limitMb} MiB`] = peakMb < limitMb;
await endpoint.close();

process.stdout.write(
  `cwbatch ship, one ${mb} MiB line between two short ones: ${events.length} events stored (${parts.length} parts), ` +
    `peak RSS of ship ${peakMb.toFixed(1)} MiB, ${(elapsed / 1000).toFixed(1)} s\n`,
);
process.stdout.write(`ship said: ${stderr.split('\n').filter((l) => l.startsWith('cwbatch ship')).join(' ')}\n`);
for (const [name, ok] of Object.entries(checks)) process.stdout.write(`  ${ok ? 'ok  ' : 'FAIL'} ${name}\n`);
process.exitCode = Object.values(checks).every(Boolean) ? 0 : 1;
