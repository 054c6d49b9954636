/**
 * Review findings: an add() waiting for room keeps the process alive through the back-off (it
 * used to exit silently, losing what was buffered); the parts of a split event stay together
 * even when another add() follows at once.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { BatchBufferImpl } from '../../../src/batch/index.js';
import { recorder, T0 } from './helpers.js';

const fixture = fileURLToPath(new URL('../../fixtures/core/blocked-add.mjs', import.meta.url));
const built = existsSync(fileURLToPath(new URL('../../../dist/batch/index.js', import.meta.url)));

describe('keep-alive while add() waits for room', () => {
  it.skipIf(!built)('a process whose only work is a blocked add() stays until the events are delivered', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [fixture], { timeout: 20_000 });
    expect(stdout).toContain('all added');
    expect(stdout.trim().split('\n').at(-1)).toBe('exit delivered=6 calls=' + stdout.match(/calls=(\d+)/)![1]);
  });
});

describe('split events stay in one piece', () => {
  it('an add() right after an oversized one lands after all of its parts', async () => {
    const rec = recorder();
    const buffer = new BatchBufferImpl(rec.flush, { maxEventBytes: 262_144, maxBytes: 1_048_576, onError: () => undefined });
    const big = 'b'.repeat(600_000); // 3 parts
    const first = buffer.add('/g', 's', { timestamp: T0, message: big });
    const second = buffer.add('/g', 's', { timestamp: T0, message: 'small' });
    await Promise.all([first, second]);
    await buffer.flush('/g', 's');
    const messages = rec.messages();
    expect(messages).toHaveLength(4);
    expect(messages.slice(0, 3).join('')).toBe(big);
    expect(messages[3]).toBe('small');
  });
});

describe('bisecting blames only what was tried', () => {
  it('when the left half fails for another reason, the untried right half is requeued without a requeue count', async () => {
    let call = 0;
    const dropped: string[] = [];
    const rec = recorder(() => {
      call++;
      // 1: the whole batch is "invalid"; 2: its left half is refused outright (non-retryable).
      if (call === 1) throw Object.assign(new Error('bad'), { name: 'InvalidParameterException' });
      if (call === 2) throw Object.assign(new Error('denied'), { name: 'AccessDeniedException' });
    });
    const buffer = new BatchBufferImpl(rec.flush, {
      maxRequeues: 0,
      onError: () => undefined,
      onDrop: (events, reason) => dropped.push(...events.map((e) => `${e.message}:${reason}`)),
    });
    for (let i = 0; i < 4; i++) await buffer.add('/g', 's', { timestamp: T0 + i, message: `m${i}` });
    await buffer.flush('/g', 's').catch(() => undefined);
    // The left half was tried and refused: with maxRequeues 0 it is dropped. The right half never went out.
    expect(dropped).toEqual(['m0:failed', 'm1:failed']);
    expect(buffer.getMetrics().eventsBuffered).toBe(2);
    await buffer.flush('/g', 's');
    expect(rec.calls.at(-1)!.events.map((e) => e.message)).toEqual(['m2', 'm3']);
  });
});
