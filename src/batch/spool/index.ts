/** Durable mode's spool: the Spool (spool.ts) and what the rest of the package names from here. */
export { SpoolCorruptionError, SpoolLockedError } from './errors.js';
export { removeStaleLock } from './lock.js';
export type { ReplayedEvent, Segment, SpoolEntry } from './segment.js';
export { Spool } from './spool.js';
