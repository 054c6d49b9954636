/**
 * `--against=REV`: a build of another git revision to run beside this tree's, alternated rep by
 * rep in the same run (issue 14's "within 3% of the commit before", issue 20's "nothing else
 * regresses").
 *
 * - The revision's files are exported with `git archive` (no worktree, branch or ref is added to
 *   the repository) into `<os tmpdir>/cwbatch-bench-against/<commit>/`, which is kept for the
 *   next run (outside the repository: `eslint .` and the tests never see that tree).
 * - Its dependencies: this tree's `node_modules` (a symlink) when both `package-lock.json` are the
 *   same, else `npm ci --ignore-scripts` there. Then `npm run build`. Either way the run says which
 *   `node_modules` the base loads and whether this tree's runtime dependencies (the AWS SDK) are
 *   there in the same versions: if not, a head/base ratio also measures the SDK's change, not only
 *   cwbatch's.
 * - The cases: the SAME case files, library and driver as this tree's (only cwbatch differs),
 *   copied to `<that folder>/.bench-<pid>/` with a `node_modules` whose entries are
 *   symlinks to `bench/node_modules`'s, except `cwbatch`, which points at the revision's build.
 *   A case imports `cwbatch/...` (and pino resolves the `cwbatch/pino` target) from there.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const git = (root, ...args) => execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();

/** A `package-lock.json`'s packages: install path -> `{ version, dev }`. */
function lockedPackages(lockFile) {
  const { packages = {} } = JSON.parse(readFileSync(lockFile, 'utf8'));
  const out = new Map();
  for (const [path, entry] of Object.entries(packages)) {
    if (path !== '' && entry.link !== true) out.set(path, { version: entry.version, dev: entry.dev === true });
  }
  return out;
}

/**
 * What the base's build loads, against this tree's: `{ nodeModules, shared, runtimeSame, differences, summary }`.
 * Compared: this tree's runtime packages (its lock's entries not marked `dev`: the AWS SDK), looked
 * up in the base's lock whatever their role there (a revision may have had the SDK as a peer, so
 * installed as `dev`). `differences` lists those whose version differs (`path: base -> head`, `-` for absent).
 */
function describeDependencies(root, dir) {
  const link = join(dir, 'node_modules');
  const shared = lstatSync(link).isSymbolicLink() && realpathSync(link) === realpathSync(join(root, 'node_modules'));
  const base = lockedPackages(join(dir, 'package-lock.json'));
  const runtime = [...lockedPackages(join(root, 'package-lock.json'))].filter(([, entry]) => !entry.dev);
  const differences = [];
  for (const [path, { version }] of runtime) {
    const theirs = base.get(path)?.version;
    if (theirs !== version) differences.push(`${path.replace(/^node_modules\//, '')}: ${theirs ?? '-'} -> ${version}`);
  }
  const where = shared ? "this tree's node_modules" : `its own node_modules (npm ci of its package-lock.json, in ${link})`;
  const versions =
    differences.length === 0
      ? `this tree's runtime dependencies in the same versions (${runtime.length} packages, the AWS SDK's included)`
      : `runtime dependencies that DIFFER from this tree's (${differences.join(', ')}): head/base ratios include that difference`;
  return { nodeModules: shared ? 'shared' : link, shared, runtimeSame: differences.length === 0, differences, summary: `loads ${where}; ${versions}` };
}

/**
 * Builds revision `rev` (once per commit) and returns `{ rev, commit, short, root, casesDir, dependencies, remove }`:
 * `root` is its tree (with `dist/`), `casesDir` the copy of this tree's cases that load it,
 * `dependencies` what its build loads (see describeDependencies), `remove()` deletes that copy
 * (the build stays for the next run).
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
  const dependencies = describeDependencies(root, dir);
  log(`bench: --against ${rev} (${short}): ${dependencies.summary}`);
  return { rev, commit, short, root: dir, casesDir: join(copy, 'cases'), dependencies, remove: () => rmSync(copy, { recursive: true, force: true }) };
}
