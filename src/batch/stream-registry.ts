/**
 * Finds or creates the {@link StreamBuffer} of a (log group, log stream), checking each name once,
 * when its stream is first seen (rules.ts). This is where a stream's life begins; releasing idle
 * streams (a `streamIdleTimeoutMs`) belongs here too.
 */
import { InvalidNameError } from './errors.js';
import { logGroupNameProblem, logStreamNameProblem } from './rules.js';
import { StreamBuffer } from './stream-buffer.js';

/** Every stream the buffer has seen, by group then stream. */
export class StreamRegistry {
  readonly #groups = new Map<string, Map<string, StreamBuffer>>();
  /** The stream of the last get(), and the streams of its group: loggers write one group to many streams. */
  #last: StreamBuffer | undefined;
  #lastStreams: Map<string, StreamBuffer> | undefined;

  /**
   * The stream's buffer, created on first use.
   * @throws InvalidNameError naming `logGroupName` or `logStreamName` for a name AWS refuses.
   */
  get(group: string, stream: string): StreamBuffer {
    const last = this.#last;
    if (last !== undefined && last.group === group && last.stream === stream) return last;
    // Loggers write one group to many streams: keep that group's map at hand (one lookup, not two).
    let streams = last !== undefined && last.group === group ? this.#lastStreams : this.#groups.get(group);
    if (streams === undefined) {
      const problem = logGroupNameProblem(group);
      if (problem !== undefined) throw new InvalidNameError('logGroupName', group, problem);
      streams = new Map();
      this.#groups.set(group, streams);
    }
    let target = streams.get(stream);
    if (target === undefined) {
      const problem = logStreamNameProblem(stream);
      if (problem !== undefined) throw new InvalidNameError('logStreamName', stream, problem);
      target = new StreamBuffer(group, stream);
      streams.set(stream, target);
    }
    this.#last = target;
    this.#lastStreams = streams;
    return target;
  }

  /** The stream's buffer if it was ever used, without creating it. */
  find(group: string, stream: string): StreamBuffer | undefined {
    return this.#groups.get(group)?.get(stream);
  }

  /** Every stream, group by group. */
  *all(): IterableIterator<StreamBuffer> {
    for (const streams of this.#groups.values()) yield* streams.values();
  }
}
