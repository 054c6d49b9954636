/** What the spool knows about each segment file, and where a spooled event is. */
import type { InputLogEvent } from '../types.js';

/** One segment file and how many of its events are not settled yet. */
export interface Segment {
  readonly file: string;
  /** Its ack file: offsets of settled records. */
  readonly ackFile: string;
  bytes: number;
  outstanding: number;
  /** Still being appended to: not deleted even when nothing is outstanding. */
  open: boolean;
  /**
   * Left by a previous process and not replayed to its end yet: not deleted even when nothing is
   * outstanding (its records not handed out yet are still to be sent, by this process or the next).
   */
  unread: boolean;
  /** Descriptor of the ack file, opened on the first ack. */
  ackFd: number | undefined;
}

/** Where one spooled event is: its segment and the byte offset of its record. */
export interface SpoolEntry {
  readonly segment: Segment;
  readonly offset: number;
}

/** An event read back from a previous process's segments. */
export interface ReplayedEvent {
  group: string;
  stream: string;
  event: InputLogEvent;
  entry: SpoolEntry;
}
