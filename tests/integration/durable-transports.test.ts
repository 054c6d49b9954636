/**
 * Durable mode in both transports: `spool: { dir }` in cwbatch/pino's options (structured-cloned
 * into pino's worker) and in the winston transport's. A process logs N records and is killed
 * (SIGKILL) once all N are in the spool, before anything was delivered; a new process with the
 * same `spool.dir` delivers all N, and 10 records of its own, when it closes.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalEndpoint, type LocalEndpoint } from '../../src/local/index.js';
import { compile, ROOT } from '../helpers/build.js';
import { spooledRecords } from '../helpers/spool.js';
import { startChild, type RunningChild } from '../helpers/child.js';
import { tempDir } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/wait-for.js';

const CHILD = join(ROOT, 'tests/fixtures/durable/transport-child.mjs');
const N = 3_000;
let build: { dist: string; remove: () => void };
let endpoint: LocalEndpoint;

beforeAll(async () => {
  build = compile();
  endpoint = await startLocalEndpoint({ port: 0 });
}, 120_000);

afterAll(async () => {
  await endpoint?.close();
  build?.remove();
});

/** The transport child of the private build, logging to the endpoint as `args` say. */
function child(args: Record<string, unknown>): RunningChild {
  return startChild([CHILD, JSON.stringify({ dist: build.dist, url: endpoint.url, ...args })], { timeoutMs: 60_000 });
}

describe.each(['pino', 'winston'])('%s transport with spool', (kind) => {
  it('records spooled by a killed process are delivered by the next one on the same spool.dir', async () => {
    const dir = tempDir(`cwbatch-durable-${kind}-`);
    const group = `/durable/${kind}`;
    const common = { kind, dir, group, stream: 'app' };
    const first = child({ ...common, n: N, mode: 'hold', flushIntervalMs: 3_600_000 });
    await waitFor(() => spooledRecords(dir) === N, `${N} records in the ${kind} spool`, 30_000);
    first.child.kill('SIGKILL');
    expect((await first.done).signal).toBe('SIGKILL');
    expect(endpoint.store.eventCount(group, 'app')).toBe(0);

    // The next process logs 10 records of its own; the replayed ones go first.
    const second = child({ ...common, from: N, n: 10, mode: 'end', flushIntervalMs: 1_000 });
    const result = await second.done;
    // Transport failures go to stderr (pino) or 'warn' (winston, printed as `warn`); the SDK's
    // Node-version notice is the only other thing there.
    expect(result.stderr.replace(/\(node:\d+\) Warning: NodeVersionSupportWarning[\s\S]*?show where the warning was created\)\n?/g, '')).toBe('');
    expect(result.code).toBe(0);
    // pino: the process may end (pino's exit hook flushes the worker) before thread-stream emits 'close'.
    if (kind === 'winston') expect(result.stdout).toBe('closed\n');
    const seqs = endpoint.store.events(group, 'app').map((e) => (JSON.parse(e.message) as { seq: number }).seq);
    expect(seqs.sort((a, b) => a - b)).toEqual(Array.from({ length: N + 10 }, (_, i) => i));
    expect(readdirSync(dir)).toEqual([]);
  }, 60_000);
});
