/** Multi-line events (issue 21): the joiner with an injected clock, the auto preset, and ShipInput's handling of parts, invalid UTF-8 and joining. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ReadLine } from '../../../src/cli/lines.js';
import { autoContinues, MultilineJoiner } from '../../../src/cli/multiline.js';
import { ShipInput } from '../../../src/cli/ship-input.js';

const line = (text: string, extra: Partial<ReadLine> = {}): ReadLine => ({ text, invalidBytes: 0, part: 0, last: true, ...extra });

const NODE_TRACE = [
  'Error: connect ECONNREFUSED 127.0.0.1:5432',
  '    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1555:16)',
  '    at Socket.emit (node:events:517:28)',
];
const JAVA_TRACE = [
  'Exception in thread "main" java.lang.IllegalStateException: boom',
  '\tat com.example.App.run(App.java:42)',
  '\tat com.example.App.main(App.java:10)',
  'Caused by: java.io.IOException: disk full',
  '\tat com.example.Store.write(Store.java:7)',
  '\t... 2 more',
];
const PYTHON_TRACE = [
  'ERROR:root:request failed',
  'Traceback (most recent call last):',
  '  File "app.py", line 3, in <module>',
  '    main()',
  'ValueError: bad value',
];

describe('MultilineJoiner', () => {
  it('auto: Node.js, Java and Python stack traces each become one event; ordinary lines stay alone', () => {
    const joiner = new MultilineJoiner({ rule: 'auto', timeoutMs: 1_000, maxBytes: 1 << 20 });
    const input = ['starting', ...NODE_TRACE, 'plain line', ...JAVA_TRACE, ...PYTHON_TRACE, 'Done: ValueError: not after a frame'];
    const events = [...input.flatMap((text, i) => joiner.push({ text, readAt: i })), ...joiner.end()];
    expect(events.map((e) => e.text)).toEqual([
      'starting',
      NODE_TRACE.join('\n'),
      'plain line',
      JAVA_TRACE.join('\n'),
      PYTHON_TRACE.join('\n'),
      'Done: ValueError: not after a frame',
    ]);
    expect(events[1]).toMatchObject({ first: NODE_TRACE[0], readAt: 1, lines: 3 });
  });

  it('--multiline-start: a matching line starts an event; a first line that does not match starts one too', () => {
    const joiner = new MultilineJoiner({ rule: { start: /^\d{4}-\d{2}-\d{2} / }, timeoutMs: 1_000, maxBytes: 1 << 20 });
    const input = ['orphan', '2026-12-05 a', 'more a', '2026-12-05 b', '2026-12-05 c', 'more c'];
    const events = [...input.flatMap((text) => joiner.push({ text, readAt: 0 })), ...joiner.end()];
    expect(events.map((e) => e.text)).toEqual(['orphan', '2026-12-05 a\nmore a', '2026-12-05 b', '2026-12-05 c\nmore c']);
  });

  it('an incomplete event is due timeoutMs after its last line (injected clock), not before', () => {
    const joiner = new MultilineJoiner({ rule: 'auto', timeoutMs: 1_000, maxBytes: 1 << 20 });
    expect(joiner.deadline).toBeUndefined();
    joiner.push({ text: NODE_TRACE[0]!, readAt: 10_000 });
    joiner.push({ text: NODE_TRACE[1]!, readAt: 10_600 });
    expect(joiner.deadline).toBe(11_600);
    expect(joiner.due(11_599)).toEqual([]);
    expect(joiner.due(11_600).map((e) => e.text)).toEqual([NODE_TRACE.slice(0, 2).join('\n')]);
    expect(joiner.deadline).toBeUndefined();
    expect(joiner.end()).toEqual([]);
  });

  it('never joins beyond maxBytes: the line that would cross it starts a new event', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 20 }), { maxLength: 40 }), fc.integer({ min: 20, max: 60 }), (texts, maxBytes) => {
        const joiner = new MultilineJoiner({ rule: { start: /^$/ }, timeoutMs: 1, maxBytes });
        const events = [...texts.flatMap((text) => joiner.push({ text: ` ${text}`, readAt: 0 })), ...joiner.end()];
        for (const e of events) if (e.lines > 1) expect(Buffer.byteLength(e.text)).toBeLessThanOrEqual(maxBytes);
        expect(events.map((e) => e.text).join('\n')).toBe(texts.map((t) => ` ${t}`).join('\n'));
      }),
    );
  });

  it('autoContinues: the preset, line by line', () => {
    expect(autoContinues('    at x (y.js:1:1)', 'Error: e')).toBe(true);
    expect(autoContinues('Caused by: x', 'a')).toBe(true);
    expect(autoContinues('KeyError: 3', '    foo()')).toBe(true);
    expect(autoContinues('KeyError: 3', 'foo()')).toBe(false);
    expect(autoContinues('GET /index 200', '  File "x"')).toBe(false);
  });
});

describe('ShipInput', () => {
  const base = { oversized: 'split', invalidUtf8: 'replace', multiline: undefined, multilineTimeoutMs: 1_000, maxMessageBytes: 100 } as const;

  it('counts lines once whatever their parts; the oversized policy applies to the parts', () => {
    const parts = [line('a'.repeat(100), { part: 1, last: false }), line('b'.repeat(100), { part: 2, last: false }), line('c', { part: 3, last: true })];
    for (const [policy, messages] of [
      ['split', ['a'.repeat(100), 'b'.repeat(100), 'c']],
      ['truncate', ['a'.repeat(100)]],
      ['drop', []],
    ] as const) {
      const input = new ShipInput({ ...base, oversized: policy });
      const events = input.take([line('before'), ...parts, line(''), line('after')], 5);
      expect(events.map((e) => e.message)).toEqual(['before', ...messages, 'after']);
      expect(input.counts).toMatchObject({ linesRead: 4, emptyLines: 1, longLines: 1, longEvents: messages.length });
    }
  });

  it('invalid UTF-8: counted; dropped only under --invalid-utf8 drop', () => {
    const lines = [line('ok'), line('bad \uFFFD', { invalidBytes: 2 }), line('also \uFFFD\uFFFD', { invalidBytes: 3 })];
    const replace = new ShipInput(base);
    expect(replace.take(lines, 0)).toHaveLength(3);
    expect(replace.counts).toMatchObject({ invalidLines: 2, invalidBytes: 5, invalidDropped: 0 });
    const drop = new ShipInput({ ...base, invalidUtf8: 'drop' });
    expect(drop.take(lines, 0).map((e) => e.message)).toEqual(['ok']);
    expect(drop.counts).toMatchObject({ linesRead: 3, invalidLines: 2, invalidBytes: 5, invalidDropped: 2 });
  });

  it('multi-line: the event takes its first line\'s timestamp; a long line is never joined', () => {
    const input = new ShipInput({ ...base, multiline: 'auto' });
    const first = JSON.stringify({ time: 1_700_000_000_000, msg: 'failed' });
    const events = [
      ...input.take([line(first), line('    at a'), line('    at b')], 42),
      ...input.take([line('x'.repeat(100), { part: 1, last: false }), line('    y', { part: 2, last: true })], 43),
      ...input.end(),
    ];
    expect(events).toEqual([
      { timestamp: 1_700_000_000_000, message: `${first}\n    at a\n    at b` },
      { timestamp: 43, message: 'x'.repeat(100) },
      { timestamp: 43, message: '    y' },
    ]);
    expect(input.counts).toMatchObject({ joinedEvents: 1, joinedLines: 3 });
  });
});
