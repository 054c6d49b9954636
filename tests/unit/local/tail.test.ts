/**
 * The pure parts of `cwbatch tail` and `cwbatch local`: --since/--until parsing (property-based),
 * the follow window that never lets an event through twice, colour choice, output format, and
 * what counts as loopback.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isLoopback } from '../../../src/cli/local.js';
import { FollowWindow, formatEvents, parseTailTime, useColour } from '../../../src/cli/tail.js';
import type { TailEvent } from '../../../src/cli/tail.js';
import { UsageError } from '../../../src/cli/usage.js';

const NOW = Date.UTC(2026, 11, 5, 14, 0, 0);

describe('parseTailTime', () => {
  it('reads relative times as that long before now', () => {
    expect(parseTailTime('since', '10m', NOW)).toBe(NOW - 600_000);
    expect(parseTailTime('since', '2h', NOW)).toBe(NOW - 7_200_000);
    expect(parseTailTime('since', '1.5s', NOW)).toBe(NOW - 1_500);
    expect(parseTailTime('since', '1d', NOW)).toBe(NOW - 86_400_000);
    expect(parseTailTime('until', '250ms', NOW)).toBe(NOW - 250);
  });

  it('reads ISO 8601 dates and times', () => {
    expect(parseTailTime('since', '2026-12-05T13:00:00Z', NOW)).toBe(Date.UTC(2026, 11, 5, 13));
    expect(parseTailTime('since', '2026-12-05T13:00:00.250+01:00', NOW)).toBe(Date.UTC(2026, 11, 5, 12, 0, 0, 250));
    expect(parseTailTime('since', '2026-12-05', NOW)).toBe(Date.UTC(2026, 11, 5));
  });

  it('round-trips any instant written as ISO 8601, and any whole number of units', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4_102_444_800_000 }), (ms) => {
        expect(parseTailTime('since', new Date(ms).toISOString(), NOW)).toBe(ms);
      }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 100_000 }), fc.constantFrom('ms', 's', 'm', 'h', 'd', 'w'), (n, unit) => {
        const per = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[unit];
        expect(parseTailTime('since', `${n}${unit}`, NOW)).toBe(NOW - n * per);
      }),
    );
  });

  it('refuses anything else with a usage error naming the flag', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 20 }).filter((s) => !/^\s*\d/.test(s)), (s) => {
        expect(() => parseTailTime('until', s, NOW)).toThrow(UsageError);
      }),
    );
    expect(() => parseTailTime('since', 'yesterday', NOW)).toThrow(/--since/);
    expect(() => parseTailTime('since', '10', NOW)).toThrow(/--since/);
    expect(() => parseTailTime('since', '2026-13-45T99:00:00Z', NOW)).toThrow(UsageError);
  });
});

function ev(id: string, timestamp: number, group = 'g'): TailEvent {
  return { logGroupName: group, logStreamName: 's', timestamp, message: id, eventId: id };
}

describe('FollowWindow', () => {
  it('starts at --since, then at the newest timestamp seen less the late window', () => {
    const w = new FollowWindow(1_000, 500);
    expect(w.nextStartTime()).toBe(1_000);
    w.fresh([ev('a', 1_200), ev('b', 5_000)]);
    expect(w.nextStartTime()).toBe(4_500);
    const early = new FollowWindow(1_000, 10_000);
    early.fresh([ev('a', 3_000)]);
    expect(early.nextStartTime()).toBe(1_000);
  });

  it('lets each event id through once, whatever the polls repeat (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.record({ id: fc.integer({ min: 0, max: 60 }), group: fc.constantFrom('g1', 'g2') }), { maxLength: 30 }), { maxLength: 15 }),
        (polls) => {
          const w = new FollowWindow(undefined, Number.MAX_SAFE_INTEGER);
          const printed: string[] = [];
          for (const poll of polls) {
            for (const e of w.fresh(poll.map(({ id, group }) => ev(`e${id}`, NOW + id, group)))) printed.push(`${e.logGroupName}/${e.eventId}`);
          }
          expect(new Set(printed).size).toBe(printed.length);
          const all = new Set(polls.flat().map(({ id, group }) => `${group}/e${id}`));
          expect(new Set(printed)).toEqual(all);
        },
      ),
    );
  });

  it('forgets ids older than the window once it holds many, and keeps those inside it', () => {
    const w = new FollowWindow(undefined, 100);
    w.fresh(Array.from({ length: 2_000 }, (_, i) => ev(`old${i}`, i)));
    w.fresh([ev('new', 10_000)]);
    // Inside the window: still known. Older than it: forgotten (never asked for again).
    expect(w.fresh([ev('new', 10_000)])).toEqual([]);
    expect(w.nextStartTime()).toBe(9_900);
  });
});

describe('output', () => {
  const events = [ev('hello', Date.UTC(2026, 11, 5, 12), 'grp')];

  it('colours only when asked, and names the group only with several groups', () => {
    const plain = formatEvents(events, { json: false, colour: false, showGroup: false, showStream: true });
    expect(plain).toBe('2026-12-05T12:00:00.000Z  s  hello\n');
    const coloured = formatEvents(events, { json: false, colour: true, showGroup: true, showStream: true });
    expect(coloured).toContain('\u001b[2m2026-12-05T12:00:00.000Z\u001b[0m');
    expect(coloured).toContain('\u001b[1mgrp\u001b[0m');
    expect(JSON.parse(formatEvents(events, { json: true, colour: false, showGroup: true, showStream: true }))).toEqual({
      logGroupName: 'grp',
      logStreamName: 's',
      timestamp: Date.UTC(2026, 11, 5, 12),
      message: 'hello',
    });
  });

  it('uses colour on a terminal, never with NO_COLOR, and when FORCE_COLOR says so', () => {
    expect(useColour(true, {})).toBe(true);
    expect(useColour(false, {})).toBe(false);
    expect(useColour(undefined, {})).toBe(false);
    expect(useColour(true, { NO_COLOR: '1' })).toBe(false);
    expect(useColour(true, { NO_COLOR: '' })).toBe(true);
    expect(useColour(false, { FORCE_COLOR: '1' })).toBe(true);
    expect(useColour(false, { FORCE_COLOR: '0' })).toBe(false);
    expect(useColour(false, { FORCE_COLOR: '1', NO_COLOR: 'x' })).toBe(false);
  });
});

describe('isLoopback', () => {
  it('knows loopback from the rest', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]', 'LOCALHOST']) expect(isLoopback(h), h).toBe(true);
    for (const h of ['0.0.0.0', '::', '192.168.1.10', '10.0.0.1', 'example.com', '128.0.0.1']) expect(isLoopback(h), h).toBe(false);
  });
});
