/**
 * cwbatch/pino that cannot start (issue 21): a spool directory held by another live process, or a
 * bad option. Real pino, real worker thread, in a child process: the application keeps logging
 * and exits 0; the reason is on stderr and as a process warning; no unhandled 'error'.
 * Needs a build (`npm run build`): pino loads the target from dist/.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, FIXTURES, ROOT, runChild } from '../fixtures/transports/helpers.js';

let dir: string;
beforeAll(() => {
  assertBuilt();
  dir = mkdtempSync(join(tmpdir(), 'cwbatch-pino-locked-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const BASE = {
  logGroupName: '/cwbatch/pino-start',
  logStreamName: 's',
  clientConfig: { endpoint: 'http://127.0.0.1:9', region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } },
};

/** Starts a process holding `spool`; resolves once it holds it. */
async function holdSpool(spool: string): Promise<ChildProcess> {
  const holder = spawn(process.execPath, [join(FIXTURES, 'spool-holder.mjs'), spool], { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    holder.stdout!.setEncoding('utf8').on('data', (d: string) => d.includes('held') && resolve());
    holder.on('exit', (code) => reject(new Error(`the spool holder exited (${code})`)));
  });
  return holder;
}

describe('cwbatch/pino that cannot start', () => {
  it('a spool directory held by another live process: the application keeps running, says why, exits 0', async () => {
    const spool = join(dir, 'held');
    const holder = await holdSpool(spool);
    try {
      const result = await runChild('pino-host.mjs', { ...BASE, spool: { dir: spool } });
      expect(result.stdout).toContain('alive\n');
      expect(result.stdout).not.toContain('transport error');
      expect(result.code).toBe(0);
      expect(result.stderr).toMatch(/cwbatch\/pino: cannot start, log lines are not shipped: .*in use by process \d+/);
      expect(result.stdout).toMatch(/warning \w+: cwbatch\/pino: cannot start, log lines are not shipped: .*in use by process/);
      expect(result.stderr).toContain('cwbatch/pino: 20 log line(s) discarded');
    } finally {
      holder.stdin!.end();
    }
  });

  it('a bad option: the same, naming the option', async () => {
    const result = await runChild('pino-host.mjs', { ...BASE, maxBufferedBytes: -1 });
    expect(result.stdout).toContain('alive\n');
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/cwbatch\/pino: cannot start, log lines are not shipped: .*maxBufferedBytes/);
  });
});
