/**
 * One process (and one thread) per spool directory: a `LOCK` file holding the owner's pid and
 * start time. A lock left by a dead process, or by an earlier process that had our pid (pid 1 in
 * a container), is taken over.
 */
import { linkSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { SpoolLockedError } from './errors.js';
import { unlinkQuietly } from './files.js';

/**
 * Spool directories (real paths) locked by this process. A LOCK naming our own pid is ours only
 * if it is in here; otherwise a previous process had the same pid (pid 1 in a container) and it
 * is stale.
 */
const lockedHere = new Set<string>();

/** Takes the lock of `dir` (a real path), or throws SpoolLockedError. */
export function lockSpool(dir: string, lockFile: string): void {
  if (lockedHere.has(dir)) throw new SpoolLockedError(dir, process.pid);
  const self = processStartId();
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      // pid, and when this process started: tells an earlier process with the same pid (pid 1
      // in a container) from another thread of this one (two pino workers on one directory).
      writeFileSync(lockFile, `${process.pid} ${self}\n`, { flag: 'wx' });
      lockedHere.add(dir);
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    let text: string;
    try {
      text = readFileSync(lockFile, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue; // released meanwhile
      throw error;
    }
    const [ownerText, startText] = text.trim().split(/\s+/);
    const owner = Number.parseInt(ownerText ?? '', 10);
    if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && isAlive(owner)) {
      throw new SpoolLockedError(dir, owner);
    }
    if (owner === process.pid && startText === self) throw new SpoolLockedError(dir, owner);
    // A stale lock from a dead process, from an earlier process with our pid, or a torn one:
    // take it over.
    removeStaleLock(lockFile, text);
  }
  throw new SpoolLockedError(dir, -1);
}

/** Releases the lock taken by {@link lockSpool}. */
export function unlockSpool(dir: string, lockFile: string): void {
  lockedHere.delete(dir);
  unlinkQuietly(lockFile);
}

/**
 * Removes the lock file if it still holds `staleText`. Two processes can find the same stale
 * lock; if one took it over (a new LOCK) before the other got here, a plain unlink by the second
 * would delete the first one's fresh lock and both would own the spool. So the file is moved
 * aside first (atomic), and put back if it turns out to be someone's new lock.
 */
export function removeStaleLock(lockFile: string, staleText: string): void {
  const aside = `${lockFile}.stale-${process.pid}-${Math.random().toString(36).slice(2)}`;
  try {
    renameSync(lockFile, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return; // gone already
    throw error;
  }
  let moved: string | undefined;
  try {
    moved = readFileSync(aside, 'utf8');
  } catch {
    // Unreadable: treat it as the stale one.
  }
  if (moved !== undefined && moved !== staleText) {
    // Another process's new lock: back where it was (only if no LOCK appeared meanwhile; if one
    // did, its creator holds the directory and the next attempt here sees it).
    try {
      linkSync(aside, lockFile);
    } catch {
      // EEXIST: see above.
    }
  }
  unlinkQuietly(aside);
}

/** When this process started (Linux: clock ticks since boot; elsewhere: seconds since the epoch). The same in every thread. */
function processStartId(): string {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const start = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
    if (start !== undefined && /^\d+$/.test(start)) return start;
  } catch {
    // Not Linux.
  }
  return String(Math.round(Date.now() / 1000 - process.uptime()));
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A killed process that its parent has not reaped yet (a zombie) still answers signal 0.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}
