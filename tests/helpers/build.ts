/**
 * The package as children run it: `dist/` (built by `npm test` before vitest), or a private
 * build of `src/` for tests that must not depend on a `dist/` other work may have left stale.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeTempDir, removeDir } from './temp-dir.js';

/** The repository's root directory. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The built `cwbatch` command. */
export const CLI = join(ROOT, 'dist', 'cli', 'main.js');

const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

/** Builds the package once if dist/cli/main.js is missing (`npm test` builds before vitest runs). */
export function ensureBuilt(): void {
  if (existsSync(CLI)) return;
  const result = spawnSync(process.execPath, [TSC, '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' });
  if (result.status !== 0 || !existsSync(CLI)) throw new Error('npm run build failed: dist/cli/main.js is missing');
}

/**
 * Compiles src/ (as `npm run build` does) into a temp directory that resolves node_modules from
 * the repository; returns its `dist` and a function that removes the whole directory.
 */
export function compile(): { dist: string; remove: () => void } {
  const dir = makeTempDir('cwbatch-private-build-');
  const dist = join(dir, 'dist');
  const result = spawnSync(process.execPath, [TSC, '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', dist, '--sourceMap', 'false', '--declaration', 'false'], {
    encoding: 'utf8',
  });
  // Type errors elsewhere in the tree do not stop tsc from emitting; the files we need must exist.
  if (!existsSync(join(dist, 'batch', 'index.js'))) throw new Error(`tsc emitted nothing: ${result.stdout}${result.stderr}`);
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  return { dist, remove: () => removeDir(dir) };
}
