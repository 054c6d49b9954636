/**
 * Model-based test (fast-check asyncModelRun): random interleavings of add, flush, flushAll, stop
 * and flush failures (transient, fatal, invalid events) against a simple reference model. After
 * every step the accounting identity holds and matches the model's count of accepted events;
 * what is delivered per stream is stored in add order: by timestamp, ties in arrival order
 * (timestamps are non-decreasing per stream, many equal, so this also checks that the sort is
 * stable, that requeued events go back in front, and that concurrent batches keep ties in order);
 * no event is delivered twice, an event marked bad is never delivered, and stop() always resolves,
 * after which every accepted event is delivered or reported dropped, exactly once.
 *
 * Zero back-off delays (retryBaseDelayMs 0 ...) and no timer (start() is never called): fast.
 * Background flushes (a full batch triggers one) still run concurrently with the commands.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BatchBufferImpl } from '../../../src/batch/index.js';
import type { FlushFunction, InputLogEvent } from '../../../src/batch/index.js';

type Mode = 'ok' | 'transient' | 'fatal';

interface Real {
  buffer: BatchBufferImpl;
  mode: { next: Mode[] };
  delivered: Map<string, number[]>;
  deliveredIds: Set<number>;
  /** Timestamp of each delivered event, by id. */
  timestamps: Map<number, number>;
  dropped: Map<number, string>;
  duplicateDeliveries: number;
  badDelivered: number;
  stopped: boolean;
}

interface Model {
  accepted: number;
  seq: number;
  clock: number;
  addedPerStream: Map<string, number[]>;
  stopped: boolean;
}

const STREAMS = ['a', 'b', 'c'];
const G = 'g';

function idOf(e: InputLogEvent): number {
  return Number(e.message.slice(0, e.message.indexOf('|')));
}

function check(m: Model, r: Real): void {
  const x = r.buffer.getMetrics();
  expect(x.eventsAccepted).toBe(m.accepted);
  expect(x.eventsAccepted).toBe(x.eventsDelivered + x.eventsRejected + x.eventsDropped + x.eventsBuffered + x.eventsInFlight);
  // A flush call records its events before it returns; until the buffer takes the answer (a few
  // microtasks later) they are still in flight for it. After stop() nothing is in flight: exact.
  expect(r.deliveredIds.size).toBeGreaterThanOrEqual(x.eventsDelivered);
  expect(r.deliveredIds.size).toBeLessThanOrEqual(x.eventsDelivered + x.eventsInFlight);
  expect(x.eventsDropped).toBe(r.dropped.size);
  expect(r.duplicateDeliveries).toBe(0);
  expect(r.badDelivered).toBe(0);
  // The order a reader sees: CloudWatch stores a stream by timestamp, and events with equal
  // timestamps in the order they arrived. Batches of different timestamps may be sent
  // concurrently (AWS allows it since 2023), so only ties must arrive in add order; with
  // timestamps non-decreasing in add order, that makes the stored order the add order.
  for (const [stream, ids] of r.delivered) {
    const stored = [...ids].sort((a, b) => (r.timestamps.get(a)! - r.timestamps.get(b)!) || ids.indexOf(a) - ids.indexOf(b));
    for (let i = 1; i < stored.length; i++) expect(stored[i]!, `stored order in ${stream}`).toBeGreaterThan(stored[i - 1]!);
  }
}

class AddCommand implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly stream: string,
    readonly tick: boolean,
    readonly bad: boolean,
  ) {}
  check = (): boolean => true;
  async run(m: Model, r: Real): Promise<void> {
    if (this.tick) m.clock++;
    const id = m.seq++;
    const promise = r.buffer.add(G, this.stream, { timestamp: m.clock, message: `${id}|${this.bad ? 'bad' : 'ok'}` });
    if (m.stopped) {
      await expect(promise).rejects.toMatchObject({ code: 'BUFFER_STOPPED' });
    } else {
      await promise;
      m.accepted++;
      m.addedPerStream.get(this.stream)!.push(id);
    }
    check(m, r);
  }
  toString = (): string => `add(${this.stream}${this.tick ? ', tick' : ''}${this.bad ? ', bad' : ''})`;
}

class FlushCommand implements fc.AsyncCommand<Model, Real> {
  constructor(readonly stream: string) {}
  check = (): boolean => true;
  async run(m: Model, r: Real): Promise<void> {
    await r.buffer.flush(G, this.stream).catch((e: unknown) => expect(e).toMatchObject({ code: 'FLUSH_FAILED' }));
    check(m, r);
  }
  toString = (): string => `flush(${this.stream})`;
}

class FlushAllCommand implements fc.AsyncCommand<Model, Real> {
  check = (): boolean => true;
  async run(m: Model, r: Real): Promise<void> {
    await r.buffer.flushAll().catch((e: unknown) => expect(e).toMatchObject({ code: 'FLUSH_FAILED' }));
    check(m, r);
  }
  toString = (): string => 'flushAll()';
}

class FailNextCommand implements fc.AsyncCommand<Model, Real> {
  constructor(readonly modes: Mode[]) {}
  check = (): boolean => true;
  async run(m: Model, r: Real): Promise<void> {
    r.mode.next.push(...this.modes);
    check(m, r);
  }
  toString = (): string => `failNext(${this.modes.join(',')})`;
}

class StopCommand implements fc.AsyncCommand<Model, Real> {
  check = (): boolean => true;
  async run(m: Model, r: Real): Promise<void> {
    m.stopped = true;
    // A deadline long enough for the zero-delay retries, short enough to end a failing run.
    await r.buffer.stop({ timeoutMs: 50 });
    await r.buffer.stop(); // idempotent
    const x = r.buffer.getMetrics();
    expect(x.eventsBuffered + x.eventsInFlight).toBe(0);
    check(m, r);
  }
  toString = (): string => 'stop()';
}

const commands = [
  fc.tuple(fc.constantFrom(...STREAMS), fc.boolean(), fc.integer({ min: 0, max: 4 }).map((n) => n === 0)).map(([s, t, b]) => new AddCommand(s, t, b)),
  fc.tuple(fc.constantFrom(...STREAMS), fc.boolean()).map(([s, t]) => new AddCommand(s, t, false)),
  fc.constantFrom(...STREAMS).map((s) => new FlushCommand(s)),
  fc.constant(new FlushAllCommand()),
  fc.array(fc.constantFrom<Mode>('transient', 'fatal', 'ok'), { minLength: 1, maxLength: 4 }).map((modes) => new FailNextCommand(modes)),
  fc.constant(new StopCommand()),
];

function setup(): { model: Model; real: Real } {
  const mode = { next: [] as Mode[] };
  const real: Real = {
    buffer: undefined as unknown as BatchBufferImpl,
    mode,
    delivered: new Map(STREAMS.map((s) => [s, []])),
    deliveredIds: new Set(),
    timestamps: new Map(),
    dropped: new Map(),
    duplicateDeliveries: 0,
    badDelivered: 0,
    stopped: false,
  };
  const flush: FlushFunction = async (_g, stream, events) => {
    await Promise.resolve();
    const next = mode.next.shift() ?? 'ok';
    if (next === 'transient') throw Object.assign(new Error('503'), { name: 'ServiceUnavailableException' });
    if (next === 'fatal') throw Object.assign(new Error('denied'), { name: 'AccessDeniedException' });
    if (events.some((e) => e.message.endsWith('|bad'))) {
      throw Object.assign(new Error('bad event'), { name: 'InvalidParameterException' });
    }
    for (const e of events) {
      const id = idOf(e);
      if (real.deliveredIds.has(id)) real.duplicateDeliveries++;
      real.deliveredIds.add(id);
      real.timestamps.set(id, e.timestamp);
      real.delivered.get(stream)!.push(id);
    }
    return {};
  };
  real.buffer = new BatchBufferImpl(flush, {
    maxEvents: 3,
    maxRetries: 1,
    maxRequeues: 1,
    retryBaseDelayMs: 0,
    throttleBaseDelayMs: 0,
    retryMaxDelayMs: 0,
    random: () => 0,
    onDrop: (events, reason) => {
      for (const e of events) {
        const id = idOf(e);
        expect(real.dropped.has(id), `dropped twice: ${id}`).toBe(false);
        real.dropped.set(id, reason);
      }
    },
    onError: () => undefined,
  });
  return {
    model: { accepted: 0, seq: 0, clock: 1_000, addedPerStream: new Map(STREAMS.map((s) => [s, []])), stopped: false },
    real,
  };
}

describe('model-based: random interleavings against a reference model', () => {
  it('identity after every step, order per stream, stop() always resolves, every event settled once', async () => {
    await fc.assert(
      fc.asyncProperty(fc.commands(commands, { maxCommands: 60 }), async (cmds) => {
        const { model, real } = setup();
        await fc.asyncModelRun(() => ({ model, real }), cmds);
        // Finish with a stop (possibly a second one) and check the final settlement.
        await new StopCommand().run(model, real);
        for (const [stream, added] of model.addedPerStream) {
          for (const id of added) {
            const delivered = real.deliveredIds.has(id) ? 1 : 0;
            const dropped = real.dropped.has(id) ? 1 : 0;
            expect(delivered + dropped, `event ${id} of ${stream}`).toBe(1);
          }
        }
        for (const [id, reason] of real.dropped) expect(['invalid', 'failed', 'shutdown', 'unknown'], String(id)).toContain(reason);
      }),
      { numRuns: 300 },
    );
  });
});
