/**
 * Shutdown, in a child process: the child uses installShutdownHandlers, buffers 50,000 events
 * against the embedded endpoint (started here, loopback, 200 ms latency per request), then the
 * parent sends SIGTERM: every event is stored before the child exits, and it exits with
 * 128 + 15 = 143. A second case lets the child's event loop run dry: `beforeExit` flushes.
 *
 * The child runs the built package (dist/), which `npm test` builds before vitest; when running
 * this file alone, run `npm run build` first.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { LocalEndpoint } from '../../src/local/index.js';
import { readBack, startEndpoint } from '../fixtures/faults/harness.js';
import { startChild } from '../helpers/child.js';
import { waitFor } from '../helpers/wait-for.js';

const CHILD = fileURLToPath(new URL('../fixtures/faults/shutdown-child.mjs', import.meta.url));
const BUILT = fileURLToPath(new URL('../../dist/batch/shutdown.js', import.meta.url));
const GROUP = '/cwbatch/shutdown';
const EVENTS = 50_000;

let endpoint: LocalEndpoint | undefined;
afterEach(async () => {
  await endpoint?.close();
  endpoint = undefined;
});

/** The shutdown child, buffering EVENTS events for the endpoint at `url`; `keepAlive` keeps its event loop busy. */
function runChild(url: string, keepAlive: boolean) {
  return startChild([CHILD, url, String(EVENTS), keepAlive ? '1' : '0'], { timeoutMs: 60_000 });
}

describe('installShutdownHandlers in a child process', () => {
  it.skipIf(!existsSync(BUILT))('SIGTERM with 50,000 events buffered, 200 ms latency: all stored before exit, exit code 143', async () => {
    endpoint = await startEndpoint({ faults: { latencyMs: 200 } });
    const out = runChild(endpoint.url, true);
    await waitFor(() => out.stdout.includes('READY'), 'the child to buffer its events', 30_000);
    const ready = JSON.parse(out.stdout.split('READY ')[1]!.split('\n')[0]!) as { buffered: number };
    expect(ready.buffered).toBe(EVENTS);
    const storedBefore = endpoint.store.totalEvents();
    out.child.kill('SIGTERM');
    const { code, signal } = await out.done;
    const back = readBack(endpoint, 10, GROUP);
    console.info('[shutdown SIGTERM]', JSON.stringify({ code, signal, storedBefore, stored: back.stored, stdout: out.stdout.trim().split('\n').slice(-1)[0] }));
    expect(out.stderr).not.toMatch(/DROP/);
    expect(code).toBe(143);
    expect(storedBefore).toBe(0);
    expect(back.stored).toBe(EVENTS);
    expect(back.duplicates).toBe(0);
    expect(back.counts.size).toBe(EVENTS);
    expect(out.stdout).toMatch(/DONE \{"reason":"SIGTERM","exitCode":143,"delivered":50000,"dropped":0\}/);
  });

  it.skipIf(!existsSync(BUILT))('the event loop runs dry with events buffered: beforeExit flushes them all, exit code 0', async () => {
    endpoint = await startEndpoint({ faults: { latencyMs: 200 } });
    const out = runChild(endpoint.url, false);
    const { code } = await out.done;
    const back = readBack(endpoint, 10, GROUP);
    expect(code).toBe(0);
    expect(back.stored).toBe(EVENTS);
    expect(back.duplicates).toBe(0);
    expect(out.stdout).toMatch(/DONE \{"reason":"beforeExit"/);
  });
});
