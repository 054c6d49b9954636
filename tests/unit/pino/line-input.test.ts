/**
 * What reaches CloudWatch from the `cwbatch/pino` stream is exactly the lines written to it,
 * however the input is cut: strings (what pino's worker writes: thread-stream decodes its buffer
 * into a string per read, and the stream keeps them strings instead of turning each into a Buffer
 * and back) or Buffers cut anywhere, inside a UTF-8 character included. Called directly (no
 * worker), against the embedded endpoint on loopback.
 */
import { once } from 'node:events';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalEndpoint, type LocalEndpoint } from '../../../src/local/index.js';
import cwbatchPinoTransport from '../../../src/pino/index.js';
import { clientConfig } from '../../helpers/client.js';

let endpoint: LocalEndpoint;
beforeAll(async () => {
  endpoint = await startLocalEndpoint({ port: 0 });
});
afterAll(async () => {
  await endpoint.close();
});

/** A pino-like line (the default layout, read without parsing; a recent time) or any other JSON object line. */
const NOW = Date.now();
const line = fc.oneof(
  fc.record({ t: fc.integer({ min: NOW - 3_600_000, max: NOW }), msg: fc.string({ unit: 'grapheme', maxLength: 40 }) }).map(({ t, msg }) => JSON.stringify({ level: 30, time: t, msg })),
  fc.dictionary(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 6 }), fc.string({ unit: 'grapheme', maxLength: 20 }), { maxKeys: 3 }).map((o) => JSON.stringify(o)),
);

let run = 0;

/**
 * Writes `whole` to a new `cwbatch/pino` stream in pieces of the sizes `cuts` gives, cycling
 * (bytes for a Buffer, UTF-16 units for a string), ends the stream, and returns the messages the
 * endpoint stored for `logStreamName`. `options`: more transport options.
 */
async function shipInPieces(logStreamName: string, whole: string | Buffer, cuts: number[], options: Record<string, unknown> = {}): Promise<string[]> {
  const stream = await cwbatchPinoTransport({
    logGroupName: '/cwbatch/unit-input',
    logStreamName,
    clientConfig: clientConfig(endpoint.url),
    ...options,
  });
  for (let at = 0, i = 0; at < whole.length; i++) {
    const size = cuts[i % cuts.length] as number;
    stream.write(whole.slice(at, at + size));
    at += size;
  }
  const closed = once(stream, 'close');
  stream.end();
  await closed;
  return endpoint.store.events('/cwbatch/unit-input', logStreamName).map((e) => e.message);
}

describe('cwbatch/pino input', () => {
  it('delivers every line as written, input as strings or as Buffers cut at any byte', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(line, { minLength: 1, maxLength: 30 }),
        fc.boolean(),
        fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 10 }),
        async (lines, asBuffers, cuts) => {
          const text = lines.map((l) => `${l}\n`).join('');
          const got = await shipInPieces(`input-${run++}`, asBuffers ? Buffer.from(text, 'utf8') : text, cuts);
          // Each batch is in time order (the buffer sorts it), so compare as sorted lists.
          expect(got.sort()).toEqual([...lines].sort());
        },
      ),
      { numRuns: 40 },
    );
  });

  it('a buffer too small for the input: lines wait inside a chunk and go on from there, each delivered exactly once', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(line, { minLength: 1, maxLength: 200 }),
        fc.boolean(),
        fc.array(fc.integer({ min: 1, max: 4_096 }), { minLength: 1, maxLength: 5 }),
        fc.integer({ min: 512, max: 2_048 }),
        async (lines, asBuffers, cuts, maxBufferedBytes) => {
          // Numbered, so that a line delivered twice (or one lost) shows even among equal lines.
          const numbered = lines.map((l, i) => JSON.stringify({ level: 30, time: NOW, i, l }));
          const text = numbered.map((l) => `${l}\n`).join('');
          const got = await shipInPieces(`small-${run++}`, asBuffers ? Buffer.from(text, 'utf8') : text, cuts, { maxBufferedBytes });
          expect(got.sort()).toEqual([...numbered].sort());
        },
      ),
      { numRuns: 25 },
    );
  });

  it('splits as split2 did: \\n or \\r\\n ends a line, blank lines are skipped, the text after the last newline is the last line', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(line, fc.constantFrom('\n', '\r\n'), fc.constantFrom('', '\n', '  \n', '\r\n')), { minLength: 1, maxLength: 30 }),
        fc.boolean(),
        fc.array(fc.integer({ min: 1, max: 400 }), { minLength: 1, maxLength: 10 }),
        async (entries, lastEnded, cuts) => {
          let text = entries.map(([l, end, blank]) => `${l}${end}${blank}`).join('');
          // The last line without its newline (and the blank after it): flushed at the end.
          if (!lastEnded) {
            const [l] = entries[entries.length - 1] as [string, string, string];
            text = `${entries.slice(0, -1).map(([x, end, blank]) => `${x}${end}${blank}`).join('')}${l}`;
          }
          const got = await shipInPieces(`split-${run++}`, text, cuts);
          expect(got.sort()).toEqual(entries.map(([l]) => l).sort());
        },
      ),
      { numRuns: 40 },
    );
  });
});
