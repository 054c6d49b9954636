/** The errors durable mode reports or throws (exported from the package). */
import { CwbatchError } from '../errors.js';

/** A problem found while replaying the spool (reported through the buffer's `onError`). */
export class SpoolCorruptionError extends CwbatchError {
  readonly file: string;
  readonly offset: number;
  readonly skippedBytes: number;

  constructor(file: string, offset: number, skippedBytes: number, reason: string) {
    super('SPOOL_CORRUPT', `Spool segment ${file}: ${reason} at byte ${offset}; skipped ${skippedBytes} byte(s)`);
    this.file = file;
    this.offset = offset;
    this.skippedBytes = skippedBytes;
  }

  override get name(): string {
    return 'SpoolCorruptionError';
  }
}

/** The spool directory is owned by another live process. */
export class SpoolLockedError extends CwbatchError {
  readonly pid: number;

  constructor(dir: string, pid: number) {
    super('SPOOL_LOCKED', `Spool directory ${dir} is in use by process ${pid}`);
    this.pid = pid;
  }

  override get name(): string {
    return 'SpoolLockedError';
  }
}
