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
