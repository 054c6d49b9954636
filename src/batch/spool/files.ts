/** Small file helpers of the spool: whole writes, and closes and unlinks that cannot fail. */
import { closeSync, fsyncSync, openSync, unlinkSync, writeSync } from 'node:fs';

export function writeAll(fd: number, data: Buffer): void {
  let written = 0;
  while (written < data.length) written += writeSync(fd, data, written, data.length - written);
}

export function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // Nothing to do: the descriptor is gone either way.
  }
}

export function unlinkQuietly(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // Already gone (or removed by hand): as good as deleted.
  }
}

/** fsync of a directory, so that a file created in it survives a power loss (not possible everywhere). */
export function syncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Some platforms (Windows) cannot open or fsync a directory.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
