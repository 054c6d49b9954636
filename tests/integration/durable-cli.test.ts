/**
 * Durable mode in the CLI: `cwbatch ship --spool DIR`. A run is killed (SIGKILL) once every line
 * it read is in the spool and before anything was delivered; a second run on the same DIR, with no
 * input, delivers them all and exits 0. A run on a DIR that a live run holds exits 1 and says so.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalEndpoint, type LocalEndpoint } from '../../src/local/index.js';
import { compile } from '../helpers/build.js';
import { spooledRecords } from '../helpers/spool.js';
import { startChild, type RunningChild } from '../helpers/child.js';
import { useTempDir } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/wait-for.js';

const N = 5_000;
let build: { dist: string; remove: () => void };
let endpoint: LocalEndpoint;
const spoolDir = useTempDir('cwbatch-durable-cli-');

beforeAll(async () => {
  build = compile();
  endpoint = await startLocalEndpoint({ port: 0 });
}, 120_000);

afterAll(async () => {
  await endpoint?.close();
  build?.remove();
});

/** `cwbatch ship --spool DIR` of the private build; stdin stays open until the test ends it. */
function ship(args: string[]): RunningChild {
  const argv = [join(build.dist, 'cli/main.js'), 'ship', '--group', '/durable/cli', '--stream', 'cli', '--endpoint', endpoint.url, '--spool', spoolDir.path, ...args];
  return startChild(argv, {
    keepStdin: true,
    timeoutMs: 60_000,
    env: { ...process.env, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_REGION: 'us-east-1' },
  });
}

describe('cwbatch ship --spool DIR', () => {
  it('a killed run leaves its lines in DIR; the next run on DIR delivers them; a live run locks DIR', async () => {
    // Run 1: reads N lines, keeps stdin open, flushes only every hour: nothing is delivered.
    const spool = spoolDir.path;
    const first = ship(['--flush-interval', '1h']);
    first.child.stdin!.write(Array.from({ length: N }, (_, i) => `line ${i}\n`).join(''));
    await waitFor(() => spooledRecords(spool) === N, `${N} records in the spool`, 20_000);

    // While it lives, DIR is locked.
    const second = ship([]);
    second.child.stdin!.end();
    const refused = await second.done;
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/--spool .* is in use by process \d+/);

    first.child.kill('SIGKILL');
    expect((await first.done).signal).toBe('SIGKILL');
    expect(endpoint.store.eventCount('/durable/cli', 'cli')).toBe(0);

    // Run 3: no input; replays the spool, delivers everything, exits 0, leaves DIR empty.
    const third = ship([]);
    third.child.stdin!.end();
    const done = await third.done;
    expect(done.stderr).not.toMatch(/error|failed/i);
    expect(done.code).toBe(0);
    const stored = endpoint.store.events('/durable/cli', 'cli').map((e) => e.message);
    expect(stored.sort()).toEqual(Array.from({ length: N }, (_, i) => `line ${i}`).sort());
    expect(readdirSync(spool)).toEqual([]);
  }, 60_000);
});
