/**
 * What the file baselines (`pino-file`, `winston-file`) share: a fresh temporary file per run,
 * and a line counter that reads only what was appended since its last call (the driver checks
 * that every line reached the file, as it checks the endpoint's counts for the other cases).
 */
import { closeSync, mkdtempSync, openSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A new empty folder with `log` (the file's path, not created yet) and `remove()`. */
export function tempLogFile(name) {
  const dir = mkdtempSync(join(tmpdir(), 'cwbatch-bench-'));
  return { path: join(dir, name), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** `count()`: the newline characters in the file so far (reads what was appended since the last call). */
export function lineCounter(path) {
  const chunk = Buffer.allocUnsafe(1 << 20);
  let offset = 0;
  let lines = 0;
  return {
    count() {
      let fd;
      try {
        fd = openSync(path, 'r');
      } catch {
        return lines; // not created yet
      }
      try {
        for (;;) {
          const got = readSync(fd, chunk, 0, chunk.length, offset);
          if (got === 0) break;
          offset += got;
          let at = chunk.indexOf(10);
          while (at !== -1 && at < got) {
            lines++;
            at = chunk.indexOf(10, at + 1);
          }
        }
      } finally {
        closeSync(fd);
      }
      return lines;
    },
  };
}
