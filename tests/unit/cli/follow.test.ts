/**
 * `readFileLines` with `follow`: `tail -F` semantics over logrotate's modes, on real files in a
 * temp dir (issue 21). The follower's waits are an injected trigger: each `step()` lets it take
 * exactly one more look, and returns once it is waiting again, so "within one poll" is exact and
 * nothing sleeps.
 */
import { appendFileSync, copyFileSync, renameSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { readFileLines } from '../../../src/cli/follow.js';
import type { ReadLine } from '../../../src/cli/lines.js';
import { tempDir } from '../../helpers/temp-dir.js';

/** The follower's wait, driven by the test. */
class Ticker {
  #release: (() => void) | undefined;
  #onWaiting: (() => void) | undefined;

  readonly wait = (signal: AbortSignal): Promise<void> =>
    new Promise<void>((resolve) => {
      const done = (): void => {
        this.#release = undefined;
        resolve();
      };
      this.#release = done;
      signal.addEventListener('abort', done, { once: true });
      this.#onWaiting?.();
    });

  /** Resolves once the follower is waiting (it has read everything it found). */
  idle(): Promise<void> {
    if (this.#release !== undefined) return Promise.resolve();
    return new Promise((resolve) => {
      this.#onWaiting = () => {
        this.#onWaiting = undefined;
        resolve();
      };
    });
  }

  /** One more look at the file(s); resolves when the follower waits again. */
  async step(): Promise<void> {
    await this.idle();
    const release = this.#release;
    const next = new Promise<void>((resolve) => {
      this.#onWaiting = () => {
        this.#onWaiting = undefined;
        resolve();
      };
    });
    release?.();
    await next;
  }
}

let dir: string;
beforeEach(() => {
  dir = tempDir('cwbatch-follow-unit-');
});

const lines = (tag: string, from: number, to: number): string => {
  let text = '';
  for (let i = from; i < to; i++) text += `${tag} line ${i} ✓\n`;
  return text;
};
const list = (text: string): string[] => text.split('\n').filter((l) => l !== '');

/** Starts following `file`; returns what it read so far, the ticker, the clock and a stop function. */
function follow(file: string, maxLineBytes = 1 << 20) {
  const read: ReadLine[] = [];
  const notices: string[] = [];
  const ticker = new Ticker();
  const clock = { now: 1_000_000 };
  const controller = new AbortController();
  const done = readFileLines(
    file,
    async (batch) => {
      read.push(...batch);
    },
    {
      follow: true,
      signal: controller.signal,
      maxLineBytes,
      rotateWaitMs: 5_000,
      wait: ticker.wait,
      now: () => clock.now,
      onNotice: (n) => notices.push(n),
    },
  );
  return {
    read,
    texts: () => read.map((l) => l.text),
    notices,
    ticker,
    clock,
    stop: async (): Promise<void> => {
      controller.abort();
      await done;
    },
  };
}

/** Every expected line once, nothing else, no part of a line. */
function expectExactlyOnce(read: ReadLine[], expected: string[]): void {
  expect(read.every((l) => l.part === 0)).toBe(true);
  expect([...read.map((l) => l.text)].sort()).toEqual([...expected].sort());
}

describe('readFileLines --follow: the rotation matrix', () => {
  it('create (rename + new file): the old file is read to its end, also what its writer adds after the rename', async () => {
    const file = join(dir, 'app.log');
    writeFileSync(file, lines('a', 0, 100));
    const f = follow(file);
    await f.ticker.idle();
    expect(f.read).toHaveLength(100);

    renameSync(file, `${file}.1`);
    appendFileSync(`${file}.1`, lines('a', 100, 150)); // written after the rename, before the look
    writeFileSync(file, lines('b', 0, 40));
    await f.ticker.step();
    expect(f.notices.some((n) => n.includes('was rotated'))).toBe(true);
    expect(f.read).toHaveLength(190);

    // The writer has not reopened yet: more goes to the old file, and a line in two pieces.
    appendFileSync(`${file}.1`, lines('a', 150, 160) + 'a unfinished');
    appendFileSync(file, lines('b', 40, 50));
    await f.ticker.step();
    expect(f.read).toHaveLength(210);
    appendFileSync(`${file}.1`, ' and finished\n' + 'a last words without newline');
    await f.ticker.step();
    expect(f.texts()).toContain('a unfinished and finished');
    expect(f.texts()).not.toContain('a last words without newline'); // held: the file may still grow

    f.clock.now += 5_000; // the old file has been quiet for rotateWaitMs: let go, its last line handed over
    await f.ticker.step();
    expect(f.texts()).toContain('a last words without newline');
    appendFileSync(`${file}.1`, 'too late\n'); // after it was let go: not read (as with tail -F)
    appendFileSync(file, lines('b', 50, 60));
    await f.ticker.step();
    await f.stop();
    expectExactlyOnce(f.read, [
      ...list(lines('a', 0, 160)),
      'a unfinished and finished',
      'a last words without newline',
      ...list(lines('b', 0, 60)),
    ]);
  });

  it('copytruncate: copy, truncate, quick writes after it (shorter and longer than before), within one poll each', async () => {
    const file = join(dir, 'app.log');
    writeFileSync(file, lines('a', 0, 50));
    const f = follow(file);
    await f.ticker.idle();

    copyFileSync(file, `${file}.1`);
    truncateSync(file, 0);
    appendFileSync(file, lines('b', 0, 3)); // shorter than what was read
    await f.ticker.step();
    expect(f.notices.filter((n) => n.includes('was truncated'))).toHaveLength(1);
    expect(f.read).toHaveLength(53);

    copyFileSync(file, `${file}.2`);
    truncateSync(file, 0);
    appendFileSync(file, lines('c', 0, 200)); // longer than what was read: size alone cannot tell
    await f.ticker.step();
    expect(f.notices.filter((n) => n.includes('was truncated'))).toHaveLength(2);
    await f.stop();
    expectExactlyOnce(f.read, [...list(lines('a', 0, 50)), ...list(lines('b', 0, 3)), ...list(lines('c', 0, 200))]);
  });

  it('delete and re-create: the deleted file is read to its end; the new one from its start', async () => {
    const file = join(dir, 'app.log');
    writeFileSync(file, lines('a', 0, 20));
    const f = follow(file);
    await f.ticker.idle();
    appendFileSync(file, lines('a', 20, 30));
    unlinkSync(file);
    await f.ticker.step();
    expect(f.notices.some((n) => n.includes('does not exist any more'))).toBe(true);
    expect(f.read).toHaveLength(30);
    writeFileSync(file, lines('b', 0, 10));
    await f.ticker.step();
    await f.stop();
    expectExactlyOnce(f.read, [...list(lines('a', 0, 30)), ...list(lines('b', 0, 10))]);
  });

  it('truncate and regrow within one poll, with an unfinished line held: no fragment, nothing lost or repeated', async () => {
    const file = join(dir, 'app.log');
    writeFileSync(file, 'first\nsecond\nthird, unfinished');
    const f = follow(file);
    await f.ticker.idle();
    expect(f.texts()).toEqual(['first', 'second']);

    truncateSync(file, 0);
    writeFileSync(file, 'after-truncate-and-this-line-is-longer-than-everything-before\nnext\n');
    await f.ticker.step();
    await f.stop();
    expect(f.texts()).toEqual([
      'first',
      'second',
      'third, unfinished', // abandoned by its writer: handed over as it was, once
      'after-truncate-and-this-line-is-longer-than-everything-before',
      'next',
    ]);
  });

  it('a line written in pieces over several polls is one line; an unfinished line is handed over at exit', async () => {
    const file = join(dir, 'app.log');
    writeFileSync(file, '');
    const f = follow(file);
    await f.ticker.idle();
    for (const piece of ['one ', 'line ', 'in ', 'pieces\nand ', 'an end']) {
      appendFileSync(file, piece);
      await f.ticker.step();
    }
    expect(f.texts()).toEqual(['one line in pieces']);
    await f.stop();
    expect(f.texts()).toEqual(['one line in pieces', 'and an end']);
  });

  it('a file that appears later is read from its start', async () => {
    const file = join(dir, 'later.log');
    const f = follow(file);
    await f.ticker.idle();
    expect(f.notices).toEqual([`${file} does not exist yet; waiting for it`]);
    writeFileSync(file, lines('a', 0, 5));
    await f.ticker.step();
    await f.stop();
    expectExactlyOnce(f.read, list(lines('a', 0, 5)));
  });
});

describe('readFileLines without --follow', () => {
  it('stopped (a signal) while reading: finishes the line being read, hands over no fragment, stops early', async () => {
    const file = join(dir, 'big.log');
    writeFileSync(file, lines('big', 0, 50_000)); // ~1 MB: several 256 KiB reads
    const controller = new AbortController();
    const read: ReadLine[] = [];
    await readFileLines(
      file,
      async (batch) => {
        read.push(...batch);
        controller.abort(); // SIGTERM during the first read
      },
      { follow: false, signal: controller.signal, maxLineBytes: 1 << 20 },
    );
    expect(read.length).toBeGreaterThan(0);
    expect(read.length).toBeLessThan(50_000);
    expect(read.map((l) => l.text)).toEqual(list(lines('big', 0, read.length)));
  });
});
