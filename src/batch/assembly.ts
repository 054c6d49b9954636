/**
 * Wires the buffer's collaborators together (the facade, buffer.ts, only calls them). Each gets
 * the few things it needs through its constructor; where two need each other (admission wakes
 * on settlement, the scheduler asks admission whether adds wait), the link is a small closure
 * over {@link Parts}, resolved when it is called, after everything is built.
 */
import { AdaptivePacer, AdaptiveRate } from './adaptive-rate.js';
import { Admission } from './admission.js';
import { Durable } from './durable.js';
import { Fairness } from './fairness.js';
import { Ledger } from './ledger.js';
import { Lifecycle } from './lifecycle.js';
import { Notices } from './notices.js';
import { Scheduler } from './scheduler.js';
import { ConcurrencySlots, Sender } from './sender.js';
import { SequenceTokenManager } from './sequencing.js';
import { Settlement } from './settlement.js';
import { StreamRegistry } from './stream-registry.js';
import type { BatchBufferOptions, BatchConfig, FlushFunction } from './types.js';
import { SlotPool } from './value-slots.js';

/** The collaborators of one buffer. */
export interface Parts {
  readonly lifecycle: Lifecycle;
  readonly ledger: Ledger;
  readonly streams: StreamRegistry;
  readonly notices: Notices;
  readonly fairness: Fairness;
  readonly tokens: SequenceTokenManager;
  readonly durable: Durable | undefined;
  readonly settlement: Settlement;
  readonly sender: Sender;
  readonly scheduler: Scheduler;
  readonly admission: Admission;
}

/** What every builder reads. */
interface Inputs {
  readonly flushFunction: FlushFunction;
  readonly config: BatchConfig;
  readonly options: BatchBufferOptions;
  readonly now: () => number;
  readonly random: () => number;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * Builds and wires the collaborators. Events a previous process left in the spool are not
 * replayed yet: call `parts.durable?.replayMore()` once the buffer holds the parts.
 */
export function assemble(inputs: Inputs): Parts {
  const parts = {
    lifecycle: new Lifecycle(),
    ledger: new Ledger(),
    streams: undefined as unknown as StreamRegistry,
    notices: new Notices(inputs.options),
    fairness: new Fairness(inputs.config.maxBytes),
    tokens: new SequenceTokenManager(),
  } as Mutable<Parts>;
  parts.streams = new StreamRegistry({
    idleTimeoutMs: inputs.config.streamIdleTimeoutMs,
    now: inputs.now,
    // add()s waiting for room each hold their stream: release nothing until they are in.
    canRelease: () => !parts.admission.waiting,
    released: (target) => parts.tokens.invalidateToken(target.group, target.stream),
    pool: SlotPool.forBound(inputs.config.maxBufferedBytes),
  });
  parts.durable = buildDurable(parts, inputs);
  parts.settlement = buildSettlement(parts, inputs);
  parts.sender = buildSender(parts, inputs);
  parts.scheduler = buildScheduler(parts, inputs);
  parts.admission = buildAdmission(parts, inputs);
  return parts;
}

function buildDurable(parts: Parts, { options }: Inputs): Durable | undefined {
  if (options.spool === undefined) return undefined;
  return new Durable(options.spool, {
    streams: parts.streams,
    enter: (target, event, size) => parts.admission.enter(target, event, size),
    fits: (size) => parts.admission.fits(size),
    lifecycle: parts.lifecycle,
    notices: parts.notices,
    replayDone: () => {
      // add()s that waited behind the replay: admit them (they are newer).
      if (parts.admission.waiting) parts.admission.roomFreed();
    },
    replayFull: () => {
      // The buffer is full of replayed events: send them (as a full buffer does).
      if (parts.lifecycle.started || parts.admission.waiting) parts.scheduler.sendIdle();
    },
  });
}

function buildSettlement(parts: Parts, { config, options }: Inputs): Settlement {
  const durable = parts.durable;
  return new Settlement({
    ledger: parts.ledger,
    tokens: parts.tokens,
    notices: parts.notices,
    hooks: options,
    maxRequeues: config.maxRequeues,
    unspool: durable === undefined ? undefined : (events) => durable.unspool(events),
    unanswered: (event) => parts.lifecycle.wasUnanswered(event),
    roomFreed: () => parts.admission.roomFreed(),
    requeued: () => parts.scheduler.armTimer(),
  });
}

function buildSender(parts: Parts, { flushFunction, config, options, now, random }: Inputs): Sender {
  return new Sender({
    flushFunction,
    policy: config,
    tokens: parts.tokens,
    // Adaptive rate (issue 18): the request rate first (nothing paced until the first throttle), then the slots.
    pacer: config.adaptiveRate
      ? new AdaptivePacer(new ConcurrencySlots(config.maxConcurrentFlushes), new AdaptiveRate({ now, random }), (ms) => parts.lifecycle.sleep(ms))
      : new ConcurrencySlots(config.maxConcurrentFlushes),
    lifecycle: parts.lifecycle,
    ledger: parts.ledger,
    fairness: parts.fairness,
    settlement: parts.settlement,
    notices: parts.notices,
    hooks: options,
    now,
    random,
  });
}

function buildScheduler(parts: Parts, { config, now, random }: Inputs): Scheduler {
  return new Scheduler({
    config,
    streams: parts.streams,
    ledger: parts.ledger,
    sender: parts.sender,
    settlement: parts.settlement,
    lifecycle: parts.lifecycle,
    fairness: parts.fairness,
    notices: parts.notices,
    addsWaiting: () => parts.admission.waiting,
    now,
    random,
  });
}

function buildAdmission(parts: Parts, { config }: Inputs): Admission {
  return new Admission({
    policy: config.overflowPolicy,
    maxBufferedBytes: config.maxBufferedBytes,
    maxEvents: config.maxEvents,
    maxBytes: config.maxBytes,
    ledger: parts.ledger,
    lifecycle: parts.lifecycle,
    streams: parts.streams,
    notices: parts.notices,
    scheduler: parts.scheduler,
    recorder: parts.durable,
    disk: parts.durable,
    drop: (target, events, reason, error) => parts.settlement.drop(target, events, reason, error),
    sendIdle: () => parts.scheduler.sendIdle(),
    armTimer: () => parts.scheduler.armTimer(),
  });
}
