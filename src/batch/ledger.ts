/**
 * Every counter of the buffer, and the accounting identity they keep (architecture.md, "Nothing
 * is lost silently"): at every moment
 *
 *   eventsAccepted = eventsDelivered + eventsRejected + eventsDropped + eventsBuffered + eventsInFlight
 *
 * Each method moves events from one term to another, so a caller cannot change one side alone.
 * Counters change before any user callback runs (notices.ts), so a hook that reads getMetrics()
 * sees the identity hold.
 */
import type { BatchMetrics, DropReason, RejectReason } from './types.js';

/** The buffer's counters. */
export class Ledger {
  #eventsAccepted = 0;
  #eventsBuffered = 0;
  #bytesBuffered = 0;
  #eventsInFlight = 0;
  #bytesInFlight = 0;
  #eventsDelivered = 0;
  #bytesDelivered = 0;
  #eventsRejected = 0;
  #eventsDropped = 0;
  #callsPending = 0;
  #flushesCompleted = 0;
  #flushesFailed = 0;
  #retries = 0;
  #eventsSplit = 0;
  #eventsTruncated = 0;
  readonly #rejectedByReason: Record<RejectReason, number> = { 'too-old': 0, 'too-new': 0, expired: 0 };
  readonly #droppedByReason: Record<DropReason, number> = { oversized: 0, overflow: 0, failed: 0, invalid: 0, shutdown: 0, unknown: 0, kept: 0 };

  /** Events buffered plus in flight. */
  get eventsPending(): number {
    return this.#eventsBuffered + this.#eventsInFlight;
  }

  /** Events buffered (not yet handed to the flush function). */
  get eventsBuffered(): number {
    return this.#eventsBuffered;
  }

  /** Bytes buffered plus in flight: what `maxBufferedBytes` bounds (admission.ts). */
  get bytesInMemory(): number {
    return this.#bytesBuffered + this.#bytesInFlight;
  }

  /** One event accepted into a stream's buffer. */
  buffered(size: number): void {
    this.#eventsAccepted++;
    this.#eventsBuffered++;
    this.#bytesBuffered += size;
  }

  /** One event accepted only to be dropped at once (reported by the caller through {@link dropped}). */
  acceptedForDrop(): void {
    this.#eventsAccepted++;
  }

  /** Buffered events taken out to be dropped (drop-oldest, shutdown); report them with {@link dropped}. */
  unbuffered(count: number, bytes: number): void {
    this.#eventsBuffered -= count;
    this.#bytesBuffered -= bytes;
  }

  /** Buffered events handed to a flush run. */
  taken(count: number, bytes: number): void {
    this.#eventsBuffered -= count;
    this.#bytesBuffered -= bytes;
    this.#eventsInFlight += count;
    this.#bytesInFlight += bytes;
  }

  /** In-flight events back in the buffer after a failed run. */
  requeued(count: number, bytes: number): void {
    this.#eventsInFlight -= count;
    this.#bytesInFlight -= bytes;
    this.#eventsBuffered += count;
    this.#bytesBuffered += bytes;
  }

  /** In-flight events that are settled now (delivered, rejected or dropped: the caller says which). */
  landed(count: number, bytes: number): void {
    this.#eventsInFlight -= count;
    this.#bytesInFlight -= bytes;
  }

  delivered(count: number, bytes: number): void {
    this.#eventsDelivered += count;
    this.#bytesDelivered += bytes;
  }

  rejected(reason: RejectReason, count: number): void {
    this.#eventsRejected += count;
    this.#rejectedByReason[reason] += count;
  }

  /** Events dropped by policy; they must already be out of buffered/in-flight. */
  dropped(reason: DropReason, count: number): void {
    this.#eventsDropped += count;
    this.#droppedByReason[reason] += count;
  }

  callStarted(): void {
    this.#callsPending++;
  }

  callEnded(): void {
    this.#callsPending--;
  }

  flushCompleted(): void {
    this.#flushesCompleted++;
  }

  flushFailed(): void {
    this.#flushesFailed++;
  }

  retried(): void {
    this.#retries++;
  }

  eventSplit(): void {
    this.#eventsSplit++;
  }

  eventTruncated(): void {
    this.#eventsTruncated++;
  }

  /** A snapshot of every counter (see {@link BatchMetrics}). */
  metrics(): BatchMetrics {
    return {
      eventsBuffered: this.#eventsBuffered,
      bytesBuffered: this.#bytesBuffered,
      flushesPending: this.#callsPending,
      flushesCompleted: this.#flushesCompleted,
      flushesFailed: this.#flushesFailed,
      eventsAccepted: this.#eventsAccepted,
      eventsInFlight: this.#eventsInFlight,
      eventsDelivered: this.#eventsDelivered,
      eventsRejected: this.#eventsRejected,
      eventsDropped: this.#eventsDropped,
      bytesDelivered: this.#bytesDelivered,
      retries: this.#retries,
      bytesInFlight: this.#bytesInFlight,
      rejectedByReason: { ...this.#rejectedByReason },
      droppedByReason: { ...this.#droppedByReason },
      eventsSplit: this.#eventsSplit,
      eventsTruncated: this.#eventsTruncated,
      streams: 0, // the facade fills it in from the stream registry
    };
  }
}
