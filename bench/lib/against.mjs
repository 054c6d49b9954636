/**
 * `--against=REV`: a build of another git revision to run beside this tree's, alternated rep by
 * rep in the same run (issue 14's "within 3% of the commit before", issue 20's "nothing else
 * regresses").
 *
 * - The revision's files are exported with `git archive` (no worktree, branch or ref is added to
 *   the repository) into `<os tmpdir>/cwbatch-bench-against/<commit>/`, which is kept for the
 *   next run (outside the repository: `eslint .` and the tests never see that tree).
 * - Its dependencies: this tree's `node_modules` (a symlink) when both `package-lock.json` are the
 *   same, else `npm ci --ignore-scripts` there. Then `npm run build`.
 * - The cases: the SAME case files, library and driver as this tree's (only cwbatch differs),
 *   copied to `<that folder>/.bench-<pid>/` with a `node_modules` whose entries are
 *   symlinks to `bench/node_modules`'s, except `cwbatch`, which points at the revision's build.
 *   A case imports `cwbatch/...` (and pino resolves the `cwbatch/pino` target) from there.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const git = (root, ...args) => execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();

/**
 * Builds revision `rev` (once per commit) and returns `{ rev, commit, short, root, casesDir, remove }`:
 * `root` is its tree (with `dist/`), `casesDir` the copy of this tree's cases that load it,
 * `remove()` deletes that copy (the build stays for the next run).
 */
export function prepareAgainst({ root, benchDir, rev, log = console.log }) {
  const commit = git(root, 'rev-parse', '--verify', `${rev}^{commit}`);
  const short = commit.slice(0, 7);
  const dir = join(tmpdir(), 'cwbatch-bench-against', commit);
  const built = join(dir, 'dist', 'batch', 'index.js');
  // Rebuilt when its dependencies went away (a symlinked node_modules of a tree since deleted).
  if (!existsSync(built) || !existsSync(join(dir, 'node_modules', '@aws-sdk', 'client-cloudwatch-logs', 'package.json'))) {
    log(`bench: --against ${rev}: exporting ${short} into ${dir} and building it ...`);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    execFileSync('sh', ['-c', 'git archive --format=tar "$1" | tar -x -C "$2"', 'sh', commit, dir], { cwd: root, stdio: 'inherit' });
    const sameLock = readFileSync(join(dir, 'package-lock.json'), 'utf8') === readFileSync(join(root, 'package-lock.json'), 'utf8');
    if (sameLock) {
      symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
    } else {
      log(`bench: --against ${rev}: its package-lock.json differs from this tree's: npm ci there ...`);
      execFileSync('npm', ['ci', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: dir, stdio: 'inherit' });
    }
    execFileSync('npm', ['run', 'build', '--silent'], { cwd: dir, stdio: 'inherit' });
  }
  // The cases and their library, this tree's, refreshed each run (they may have changed since).
  const copy = join(dir, `.bench-${process.pid}`);
  rmSync(copy, { recursive: true, force: true });
  mkdirSync(join(copy, 'node_modules'), { recursive: true });
  for (const sub of ['cases', 'lib']) cpSync(join(benchDir, sub), join(copy, sub), { recursive: true });
  cpSync(join(benchDir, 'package.json'), join(copy, 'package.json'));
  for (const name of readdirSync(join(benchDir, 'node_modules'))) {
    if (name === 'cwbatch' || name === '.bin' || name.startsWith('.package-lock')) continue;
    symlinkSync(join(benchDir, 'node_modules', name), join(copy, 'node_modules', name), 'dir');
  }
  symlinkSync(dir, join(copy, 'node_modules', 'cwbatch'), 'dir');
  return { rev, commit, short, root: dir, casesDir: join(copy, 'cases'), remove: () => rmSync(copy, { recursive: true, force: true }) };
}
