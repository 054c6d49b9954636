/**
 * What the scripts that drive pino themselves share (pino-memory.mjs, pino-loop.mjs): an
 * endpoint in a process of its own, the `cwbatch/pino` target's options against it, and ending a
 * transport once its worker has drained.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { CREDENTIALS, REGION } from './aws-env.mjs';

/** Node with `args` in a child process that prints its URL as its first line; resolves to the URL and a way to stop it. */
export async function endpointProcess(args) {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const [chunk] = await once(child.stdout, 'data');
  return { url: String(chunk).trim(), stop: () => child.kill() };
}

/** cwbatch's embedded endpoint (`keepEvents: false`), built in `root`'s dist/, in a child process. */
export function embeddedEndpoint(root) {
  const local = JSON.stringify(new URL('dist/local/index.js', `file://${root}`).href);
  return endpointProcess(['--input-type=module', '-e', `const m = await import(${local}); const e = await m.startLocalEndpoint({ port: 0, keepEvents: false }); console.log(e.url);`]);
}

/** The `cwbatch/pino` options for `url`: fake credentials, one stream of `group`, a close that waits for delivery. */
export function cwbatchPinoOptions(url, group) {
  return {
    logGroupName: group,
    logStreamName: 's',
    clientConfig: { endpoint: url, region: REGION, credentials: { ...CREDENTIALS } },
    shutdownTimeoutMs: 600_000,
  };
}

/** Ends a pino transport and resolves once it closed (its worker delivered or wrote everything). */
export async function endTransport(transport) {
  // thread-stream's worker does not keep this thread's event loop alive while it drains.
  const keepAlive = setInterval(() => undefined, 1_000);
  const closed = once(transport, 'close');
  transport.end();
  await closed;
  clearInterval(keepAlive);
}
