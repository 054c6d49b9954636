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

describe('cwbatch/pino input', () => {
  it('delivers every line as written, input as strings or as Buffers cut at any byte', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(line, { minLength: 1, maxLength: 30 }),
        fc.boolean(),
        fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 10 }),
        async (lines, asBuffers, cuts) => {
          const logStreamName = `input-${run++}`;
          const stream = await cwbatchPinoTransport({
            logGroupName: '/cwbatch/unit-input',
            logStreamName,
            clientConfig: clientConfig(endpoint.url),
          });
          const text = lines.map((l) => `${l}\n`).join('');
          const whole = asBuffers ? Buffer.from(text, 'utf8') : text;
          // Cut into pieces of the given sizes (bytes for Buffers, UTF-16 units for strings), cycling.
          for (let at = 0, i = 0; at < whole.length; i++) {
            const size = cuts[i % cuts.length] as number;
            stream.write(whole.slice(at, at + size));
            at += size;
          }
          const closed = once(stream, 'close');
          stream.end();
          await closed;
          // Each batch is in time order (the buffer sorts it), so compare as sorted lists.
          const got = endpoint.store.events('/cwbatch/unit-input', logStreamName).map((e) => e.message);
          expect(got.sort()).toEqual([...lines].sort());
        },
      ),
      { numRuns: 40 },
    );
  });
});
