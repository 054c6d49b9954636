/** Temporary directories that remove themselves: the one `tempDir` of the tests. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, onTestFinished } from 'vitest';

/** A new empty directory under the OS temp directory (named `<prefix>XXXXXX`); not removed. */
export function makeTempDir(prefix = 'cwbatch-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Removes `dir` and everything in it; a missing directory is fine. */
export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/**
 * A new empty directory, removed when the test that calls this finishes (pass or fail). Call it
 * inside a test (or a function a test calls); for a directory shared by a file's tests, use
 * {@link useTempDir}.
 */
export function tempDir(prefix = 'cwbatch-test-'): string {
  const dir = makeTempDir(prefix);
  onTestFinished(() => removeDir(dir));
  return dir;
}

/**
 * A directory shared by the tests of one file: made before the first test, removed after the
 * last. Call at the top of the file (it registers `beforeAll`/`afterAll`); read `.path` in tests.
 */
export function useTempDir(prefix = 'cwbatch-test-'): { readonly path: string } {
  let dir: string | undefined;
  beforeAll(() => {
    dir = makeTempDir(prefix);
  });
  afterAll(() => {
    if (dir !== undefined) removeDir(dir);
  });
  return {
    get path(): string {
      if (dir === undefined) throw new Error('useTempDir: the directory exists only while the tests of the file run');
      return dir;
    },
  };
}
