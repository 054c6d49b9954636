/**
 * The spool's LOCK (src/batch/spool/lock.ts): one live owner per directory, stale locks taken over
 * without removing a fresh one.
 *
 * A crash is simulated by copying the spool directory (everything but LOCK) while the first
 * buffer still holds it (tests/helpers/spool.ts, crashCopy): the copy is what a kill -9 at that
 * moment leaves on disk. The real kill is in tests/integration/durable-kill.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BatchBufferImpl } from '../../../../src/batch/buffer.js';
import { SpoolLockedError } from '../../../../src/batch/index.js';
import { removeStaleLock } from '../../../../src/batch/spool/index.js';
import { quietNoTimer } from '../../../helpers/quiet.js';
import { crashCopy } from '../../../helpers/spool.js';
import { tempDir } from '../../../helpers/temp-dir.js';
import { recorder } from '../helpers.js';
import { G, S, event } from './fixtures.js';

describe('lock', () => {
  it('a second buffer on the same directory throws SpoolLockedError while the first is alive; free again after stop()', async () => {
    const dir = tempDir();
    const first = new BatchBufferImpl(recorder().flush, quietNoTimer({ spool: { dir } }));
    expect(() => new BatchBufferImpl(recorder().flush, quietNoTimer({ spool: { dir } }))).toThrow(SpoolLockedError);
    expect(() => new BatchBufferImpl(recorder().flush, quietNoTimer({ spool: { dir: join(dir, '.') } }))).toThrow(/in use by process/);
    await first.stop();
    const second = new BatchBufferImpl(recorder().flush, quietNoTimer({ spool: { dir } }));
    await second.stop();
  });

  it('a LOCK held by another live process is respected', () => {
    const dir = tempDir();
    // The parent of this test process is alive and is not us.
    writeFileSync(join(dir, 'LOCK'), String(process.ppid));
    let caught: unknown;
    try {
      new BatchBufferImpl(recorder().flush, quietNoTimer({ spool: { dir } }));
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(SpoolLockedError);
    expect((caught as SpoolLockedError).pid).toBe(process.ppid);
    expect((caught as SpoolLockedError).code).toBe('SPOOL_LOCKED');
  });

  it('a stale LOCK with a dead pid (and its segments) is taken over', async () => {
    const source = tempDir();
    const first = new BatchBufferImpl(recorder().flush, quietNoTimer({ spool: { dir: source } }));
    await first.add(G, S, event(1));
    const dir = crashCopy(source);
    await first.stop({ timeoutMs: 0 });
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    writeFileSync(join(dir, 'LOCK'), dead.stdout);
    const rec = recorder();
    const buffer = new BatchBufferImpl(rec.flush, quietNoTimer({ spool: { dir } }));
    expect(readFileSync(join(dir, 'LOCK'), 'utf8')).toMatch(new RegExp(`^${process.pid} \\d+\n$`));
    await buffer.flushAll();
    expect(rec.messages()).toEqual([event(1).message]);
    await buffer.stop();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a LOCK with our own pid but another start time (an earlier process had the pid, e.g. pid 1 in a container) is stale', async () => {
    for (const text of [String(process.pid), `${process.pid} 1\n`]) {
      const dir = tempDir();
      writeFileSync(join(dir, 'LOCK'), text);
      const buffer = new BatchBufferImpl(recorder().flush, quietNoTimer({ spool: { dir } }));
      // Taken over: the LOCK now names this process with its own start time.
      const lock = readFileSync(join(dir, 'LOCK'), 'utf8');
      expect(lock).toMatch(new RegExp(`^${process.pid} \\d+\n$`));
      expect(lock).not.toBe(text);
      await buffer.stop();
    }
  });

  it('a LOCK with our pid and start time that this thread does not hold (another worker thread: pino) is respected', async () => {
    const held = tempDir();
    const first = new BatchBufferImpl(recorder().flush, quietNoTimer({ spool: { dir: held } }));
    const dir = tempDir();
    writeFileSync(join(dir, 'LOCK'), readFileSync(join(held, 'LOCK')));
    expect(() => new BatchBufferImpl(recorder().flush, quietNoTimer({ spool: { dir } }))).toThrow(SpoolLockedError);
    await first.stop();
  });
});

describe('taking over a stale lock', () => {
  it('removes the lock only while it still holds the stale text: a fresh lock another process just made stays', () => {
    const dir = tempDir();
    const lock = join(dir, 'LOCK');
    writeFileSync(lock, '999999999 1\n');
    removeStaleLock(lock, '999999999 1\n');
    expect(readdirSync(dir)).toEqual([]);
    // Between reading the stale text and getting here, another process took the lock over.
    writeFileSync(lock, `${process.pid} fresh\n`);
    removeStaleLock(lock, '999999999 1\n');
    expect(readFileSync(lock, 'utf8')).toBe(`${process.pid} fresh\n`);
    expect(readdirSync(dir)).toEqual(['LOCK']);
    // Gone meanwhile: nothing to do.
    rmSync(lock);
    expect(() => removeStaleLock(lock, '999999999 1\n')).not.toThrow();
  });
});
