/**
 * cwbatch/pino that cannot start (issue 21): a spool directory held by another live process, or a
 * bad option. Real pino, real worker thread, in a child process: the application keeps logging
 * and exits 0; the reason is on stderr and as a process warning; no unhandled 'error'.
 * Needs a build (`npm run build`): pino loads the target from dist/.
 */
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, FIXTURES, runChild } from '../fixtures/transports/helpers.js';
import { ROOT } from '../helpers/build.js';
import { startChild, type RunningChild } from '../helpers/child.js';
import { clientConfig } from '../helpers/client.js';
import { useTempDir } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/wait-for.js';

const dir = useTempDir('cwbatch-pino-locked-');
beforeAll(() => assertBuilt());

const BASE = {
  logGroupName: '/cwbatch/pino-start',
  logStreamName: 's',
  clientConfig: clientConfig('http://127.0.0.1:9'),
};

/** Starts a process holding `spool` (it lets go when its stdin ends); resolves once it holds it. */
async function holdSpool(spool: string): Promise<RunningChild> {
  const holder = startChild([join(FIXTURES, 'spool-holder.mjs'), spool], { cwd: ROOT, keepStdin: true });
  await waitFor(
    () => {
      if (holder.stdout.includes('held')) return true;
      if (holder.child.exitCode !== null || holder.child.signalCode !== null) {
        throw new Error(`the spool holder exited (${holder.child.exitCode ?? holder.child.signalCode}): ${holder.stderr}`);
      }
      return false;
    },
    'the spool holder to hold the spool',
  );
  return holder;
}

describe('cwbatch/pino that cannot start', () => {
  it('a spool directory held by another live process: the application keeps running, says why, exits 0', async () => {
    const spool = join(dir.path, 'held');
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
      holder.child.stdin?.end();
      await holder.done;
    }
  });

  it('a bad option: the same, naming the option', async () => {
    const result = await runChild('pino-host.mjs', { ...BASE, maxBufferedBytes: -1 });
    expect(result.stdout).toContain('alive\n');
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/cwbatch\/pino: cannot start, log lines are not shipped: .*maxBufferedBytes/);
  });
});
