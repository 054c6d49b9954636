/**
 * Durable mode in the CLI: `cwbatch ship --spool DIR`. A run is killed (SIGKILL) once every line
 * it read is in the spool and before anything was delivered; a second run on the same DIR, with no
 * input, delivers them all and exits 0. A run on a DIR that a live run holds exits 1 and says so.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalEndpoint, type LocalEndpoint } from '../../src/local/index.js';
import { compile, spooledRecords, until } from '../fixtures/durable/helpers.js';

const N = 5_000;
let build: { dist: string; remove: () => void };
let endpoint: LocalEndpoint;
let spool: string;

beforeAll(async () => {
  build = compile();
  endpoint = await startLocalEndpoint({ port: 0 });
  spool = mkdtempSync(join(tmpdir(), 'cwbatch-durable-cli-'));
}, 120_000);

afterAll(async () => {
  await endpoint?.close();
  build?.remove();
  if (spool !== undefined) rmSync(spool, { recursive: true, force: true });
});

function ship(args: string[]): ChildProcess {
  return spawn(process.execPath, [join(build.dist, 'cli/main.js'), 'ship', '--group', '/durable/cli', '--stream', 'cli', '--endpoint', endpoint.url, '--spool', spool, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_REGION: 'us-east-1' },
  });
}

function finished(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stderr })));
}

describe('cwbatch ship --spool DIR', () => {
  it('a killed run leaves its lines in DIR; the next run on DIR delivers them; a live run locks DIR', async () => {
    // Run 1: reads N lines, keeps stdin open, flushes only every hour: nothing is delivered.
    const first = ship(['--flush-interval', '1h']);
    const firstDone = finished(first);
    first.stdin!.write(Array.from({ length: N }, (_, i) => `line ${i}\n`).join(''));
    await until(() => spooledRecords(spool) === N, 20_000, `${N} records in the spool`);

    // While it lives, DIR is locked.
    const second = ship([]);
    second.stdin!.end();
    const refused = await finished(second);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/--spool .* is in use by process \d+/);

    first.kill('SIGKILL');
    expect((await firstDone).signal).toBe('SIGKILL');
    expect(endpoint.store.eventCount('/durable/cli', 'cli')).toBe(0);

    // Run 3: no input; replays the spool, delivers everything, exits 0, leaves DIR empty.
    const third = ship([]);
    third.stdin!.end();
    const done = await finished(third);
    expect(done.stderr).not.toMatch(/error|failed/i);
    expect(done.code).toBe(0);
    const stored = endpoint.store.events('/durable/cli', 'cli').map((e) => e.message);
    expect(stored.sort()).toEqual(Array.from({ length: N }, (_, i) => `line ${i}`).sort());
    expect(readdirSync(spool)).toEqual([]);
  }, 60_000);
});
