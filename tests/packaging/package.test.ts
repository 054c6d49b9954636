/**
 * The package as users get it (issue 15): `npm pack`, the tarball installed into an empty folder
 * (its dependencies from the npm registry, through the local npm cache), and there: the CLI, every
 * `exports` subpath from ESM and from CommonJS, with and without the optional peers, and a
 * TypeScript consumer under `moduleResolution` node16 and bundler. Also what the tarball holds.
 *
 * Everything runs under the Node.js that runs the suite (its directory goes first on PATH, so
 * npm and npx run on it too); CI runs the suite under each supported line. The `exports` map and
 * the optional peers are read from package.json, so a new subpath is tested without editing here.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join, posix } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startLocalEndpoint, type LocalEndpoint } from '../../src/local/index.js';
import { ensureBuilt, ROOT } from '../helpers/build.js';
import { makeTempDir, removeDir } from '../helpers/temp-dir.js';

interface PackageJson {
  name: string;
  engines: { node: string };
  bin: Record<string, string>;
  exports: Record<string, string | Record<string, string>>;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

// npm installs, npx and tsc runs: minutes on a loaded machine, whatever the suite's default.
vi.setConfig({ testTimeout: 180_000, hookTimeout: 300_000 });

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as PackageJson;
const subpaths = Object.keys(pkg.exports);
const specifier = (subpath: string): string => (subpath === '.' ? pkg.name : `${pkg.name}/${subpath.slice(2)}`);
const codeSubpaths = subpaths.filter((s) => !s.endsWith('.json'));
const optionalPeers = Object.keys(pkg.peerDependencies ?? {}).filter((p) => pkg.peerDependenciesMeta?.[p]?.optional === true);

/** Whether this Node.js is one the package supports (engines, written as ">=MAJOR.MINOR"). */
const supported = ((): boolean => {
  const m = /^>=(\d+)\.(\d+)$/.exec(pkg.engines.node);
  if (!m) throw new Error(`engines.node ${JSON.stringify(pkg.engines.node)}: this test reads only ">=MAJOR.MINOR"`);
  const [major, minor] = process.versions.node.split('.').map(Number) as [number, number];
  return major > Number(m[1]) || (major === Number(m[1]) && minor >= Number(m[2]));
})();

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * The environment for npm, npx and node in the consumer: this Node first on PATH, and nothing
 * from the `npm test` that runs the suite (npm_* would point npm at this repository), vitest or
 * the host's AWS setup.
 */
function consumerEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^npm_/i.test(key) && !/^npm_config_(cache|registry|userconfig)$/i.test(key)) continue;
    if (/^(INIT_CWD|NODE|NODE_OPTIONS|VITEST.*|AWS_.*)$/.test(key)) continue;
    env[key] = value;
  }
  env['PATH'] = `${dirname(process.execPath)}${delimiter}${process.env['PATH'] ?? ''}`;
  return { ...env, ...extra };
}

/** Dummy credentials and no host AWS configuration; nothing silences the SDK's own warnings. */
const awsEnv = {
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
  AWS_EC2_METADATA_DISABLED: 'true',
  AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/credentials',
  AWS_CONFIG_FILE: '/nonexistent/config',
};

/** Children still running: killed when the file ends (a test that timed out leaves no tsc behind). */
const running = new Set<ChildProcess>();

function run(command: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number }): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? consumerEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
    running.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    timer.unref();
    child.on('error', reject);
    child.on('close', (code) => {
      running.delete(child);
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

async function mustRun(command: string, args: string[], options: Parameters<typeof run>[2]): Promise<Run> {
  const result = await run(command, args, options);
  if (result.code !== 0) {
    throw new Error(`${command} ${args.join(' ')} exited ${result.code}\n${result.stdout}\n${result.stderr}`);
  }
  return result;
}

/** What each subpath gives when loaded: its export names, or the error's code and message. */
type Loaded = Record<string, { keys: string[] } | { code: string; message: string }>;

const ESM_PROBE = `
const out = {};
for (const spec of process.argv.slice(2)) {
  try {
    const m = spec.endsWith('.json') ? await import(spec, { with: { type: 'json' } }) : await import(spec);
    out[spec] = { keys: Object.keys(m).sort() };
  } catch (e) {
    out[spec] = { code: String(e.code), message: String(e.message).split('\\n')[0] };
  }
}
process.stdout.write(JSON.stringify(out));
`;

const CJS_PROBE = `
const out = {};
for (const spec of process.argv.slice(2)) {
  try {
    const m = require(spec);
    // require(esm) returns the namespace (plus __esModule: true when the module has a default
    // export, for transpiled callers); a JSON file, its value. Compared as ESM sees them.
    out[spec] = { keys: spec.endsWith('.json') ? ['default'] : Object.keys(m).filter((k) => k !== '__esModule').sort() };
  } catch (e) {
    out[spec] = { code: String(e.code), message: String(e.message).split('\\n')[0] };
  }
}
process.stdout.write(JSON.stringify(out));
`;

let tmp: string;
let consumer: string;
let tarballFiles: string[];
let install: Run;

beforeAll(async () => {
  ensureBuilt();
  tmp = makeTempDir('cwbatch-pack-');
  // --ignore-scripts: no prepack build while other test files use dist/ (npm test built it).
  const packed = await mustRun('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], { cwd: ROOT });
  const [info] = JSON.parse(packed.stdout) as [{ filename: string; files: { path: string }[] }];
  tarballFiles = info.files.map((f) => f.path).sort();
  consumer = join(tmp, 'consumer');
  mkdirSync(consumer);
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }));
  writeFileSync(join(consumer, 'probe.mjs'), ESM_PROBE);
  writeFileSync(join(consumer, 'probe.cjs'), CJS_PROBE);
  install = await mustRun(
    'npm',
    ['install', join(tmp, info.filename), '--prefer-offline', '--no-audit', '--no-fund'],
    { cwd: consumer, timeoutMs: 240_000 },
  );
}, 300_000);

afterAll(() => {
  for (const child of running) child.kill('SIGKILL');
  if (tmp) removeDir(tmp);
});

describe('the tarball', () => {
  it('holds the build, the sources its source maps name, README, LICENSE, CHANGELOG and package.json: nothing else', () => {
    for (const path of tarballFiles) {
      expect(path).toMatch(/^(dist\/.+\.(js|d\.ts|js\.map)|src\/.+\.ts|README\.md|LICENSE|CHANGELOG\.md|package\.json)$/);
      expect(path).not.toMatch(/(^|\/)(tests?|bench|fixtures|__tests__)\/|\.test\./);
    }
    const files = new Set(tarballFiles);
    for (const needed of ['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md']) expect(files).toContain(needed);
    const targets = [
      ...Object.values(pkg.bin),
      ...Object.values(pkg.exports).flatMap((t) => (typeof t === 'string' ? [t] : Object.values(t))),
    ];
    for (const target of targets) expect(files).toContain(posix.normalize(target));
    // Every built file has its source (a stale build would ship modules of no source), and
    // every source was built.
    const dist = tarballFiles.filter((p) => p.startsWith('dist/'));
    for (const path of dist) expect(files).toContain(path.replace(/^dist\//, 'src/').replace(/\.(js|d\.ts|js\.map)$/, '.ts'));
    for (const path of tarballFiles.filter((p) => p.startsWith('src/'))) {
      expect(files).toContain(path.replace(/^src\//, 'dist/').replace(/\.ts$/, '.js'));
    }
  });

  it('has no source map or sourceMappingURL that points at a file it does not hold', () => {
    const files = new Set(tarballFiles);
    const installed = join(consumer, 'node_modules', pkg.name);
    const maps = tarballFiles.filter((p) => p.endsWith('.map'));
    expect(maps.length).toBeGreaterThan(0);
    for (const path of maps) {
      const map = JSON.parse(readFileSync(join(installed, path), 'utf8')) as { sources: string[]; sourceRoot?: string };
      for (const source of map.sources) {
        expect(files, `${path} names ${source}`).toContain(posix.join(posix.dirname(path), map.sourceRoot ?? '', source));
      }
    }
    for (const path of tarballFiles.filter((p) => p.endsWith('.js'))) {
      const url = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(readFileSync(join(installed, path), 'utf8'))?.[1];
      if (url !== undefined) expect(files, `${path} points at ${url}`).toContain(posix.join(posix.dirname(path), url));
    }
  });

  it('installs with its dependencies alone: no devDependency, no build, no warning about engines or install scripts', () => {
    const installed = JSON.parse(readFileSync(join(consumer, 'node_modules', pkg.name, 'package.json'), 'utf8')) as PackageJson;
    expect(Object.keys(installed.dependencies ?? {})).toEqual(Object.keys(pkg.dependencies ?? {}));
    for (const dependency of Object.keys(pkg.dependencies ?? {})) {
      expect(() => readFileSync(join(consumer, 'node_modules', dependency, 'package.json'))).not.toThrow();
    }
    expect(install.stderr).not.toMatch(/install-scripts|prepare|prepack/);
    if (supported) expect(install.stderr).not.toMatch(/EBADENGINE/);
  });
});

describe('the command, installed', () => {
  let endpoint: LocalEndpoint;
  beforeAll(async () => {
    endpoint = await startLocalEndpoint({ port: 0 });
  });
  afterAll(async () => {
    await endpoint.close();
  });

  it('npx cwbatch demo ends with lost 0, and prints nothing on stderr on a supported Node', async () => {
    const result = await run('npx', ['--no', 'cwbatch', 'demo', '--events', '2000'], {
      cwd: consumer,
      env: consumerEnv(awsEnv),
    });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^\s+lost\s+0\s+✓/m);
    expect(result.stdout.trimEnd()).toMatch(/PASS: lost 0\.[^\n]*$/);
    if (supported) expect(result.stderr).toBe('');
  });

  it('npx cwbatch ship delivers (its summary line alone on stderr on a supported Node), npx cwbatch tail reads it back', async () => {
    const result = await run('npx', ['--no', 'cwbatch', 'ship', '-g', 'packaging', '-s', 'ship'], {
      cwd: consumer,
      env: consumerEnv({ ...awsEnv, AWS_ENDPOINT_URL_CLOUDWATCH_LOGS: endpoint.url }),
      input: 'one\ntwo\nthree\n',
    });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/^cwbatch ship: 3 lines read · 3 events delivered to packaging \/ ship in /m);
    if (supported) expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);

    const tail = await run('npx', ['--no', 'cwbatch', 'tail', '-g', 'packaging', '-s', 'ship', '--json'], {
      cwd: consumer,
      env: consumerEnv({ ...awsEnv, AWS_ENDPOINT_URL_CLOUDWATCH_LOGS: endpoint.url }),
    });
    expect(tail.code, tail.stderr).toBe(0);
    expect(tail.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { message: string }).message)).toEqual(['one', 'two', 'three']);
    if (supported) expect(tail.stderr).toBe('');
  });
});

describe('every exports subpath, installed', () => {
  const specs = subpaths.map(specifier);

  async function load(probe: string): Promise<Loaded> {
    const result = await mustRun(process.execPath, [probe, ...specs], { cwd: consumer });
    if (supported) expect(result.stderr).toBe(''); // no ExperimentalWarning for require(esm)
    return JSON.parse(result.stdout) as Loaded;
  }

  it('loads from ESM and CommonJS alike without the optional peers, or names the missing peer', async () => {
    const esm = await load('probe.mjs');
    const cjs = await load('probe.cjs');
    expect(cjs).toEqual(esm);
    const missingPeer = new RegExp(`^Cannot find (package|module) '(${optionalPeers.join('|')})'`);
    for (const spec of specs) {
      const loaded = esm[spec]!;
      if ('code' in loaded) {
        expect(loaded.code, `${spec}: ${loaded.message}`).toBe('ERR_MODULE_NOT_FOUND');
        expect(loaded.message).toMatch(missingPeer);
      } else {
        expect(loaded.keys.length, spec).toBeGreaterThan(0);
      }
    }
    // The core and the AWS adapter need nothing beyond `npm install cwbatch`.
    expect(esm[pkg.name]).toHaveProperty('keys');
    expect(esm[`${pkg.name}/aws`]).toHaveProperty('keys');
  });

  it('the core loads no AWS SDK module', async () => {
    const result = await mustRun(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { createRequire } from 'node:module';
         await import('${pkg.name}');
         const loaded = Object.keys(createRequire(import.meta.url).cache).filter((f) => f.includes('@aws-sdk'));
         process.stdout.write(JSON.stringify(loaded));`,
      ],
      { cwd: consumer },
    );
    expect(JSON.parse(result.stdout)).toEqual([]);
  });

  describe('with the optional peers installed', () => {
    beforeAll(async () => {
      // The versions this repository develops against (its devDependencies), from the npm cache.
      const peers = optionalPeers.map((peer) => {
        const version = (JSON.parse(readFileSync(join(ROOT, 'node_modules', peer, 'package.json'), 'utf8')) as { version: string }).version;
        return `${peer}@${version}`;
      });
      await mustRun('npm', ['install', ...peers, '--prefer-offline', '--no-audit', '--no-fund'], { cwd: consumer, timeoutMs: 240_000 });
    }, 300_000);

    it('every subpath loads from ESM and from CommonJS, with the same exports', async () => {
      const esm = await load('probe.mjs');
      const cjs = await load('probe.cjs');
      for (const spec of specs) {
        expect(esm[spec], spec).toHaveProperty('keys');
        expect(cjs[spec], spec).toEqual(esm[spec]);
      }
    });

    /** Writes a consumer type-checked under `resolution` into its own folder; returns the folder. */
    function writeTypeScriptConsumer(resolution: 'node16' | 'bundler'): string {
      const dir = join(consumer, `ts-${resolution}`);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'package.json'), JSON.stringify({ private: true, type: 'module' }));
      writeFileSync(
        join(dir, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: {
            module: resolution === 'node16' ? 'node16' : 'esnext',
            moduleResolution: resolution,
            target: 'es2022',
            strict: true,
            noEmit: true,
            skipLibCheck: false, // the shipped .d.ts files are checked too
            types: ['node'],
            typeRoots: [join(ROOT, 'node_modules', '@types')],
          },
          files: ['index.ts'],
        }),
      );
      const imports = codeSubpaths.map((s, i) => `import * as m${i} from '${specifier(s)}';`);
      writeFileSync(
        join(dir, 'index.ts'),
        [
          ...imports,
          `import { BatchBufferImpl, type BatchMetrics } from '${pkg.name}';`,
          `import { createCloudWatchFlushFunction } from '${pkg.name}/aws';`,
          `export const modules: object[] = [${codeSubpaths.map((_, i) => `m${i}`).join(', ')}];`,
          `const flush = createCloudWatchFlushFunction({ clientConfig: { region: 'eu-west-1' } });`,
          `const buffer = new BatchBufferImpl(flush, { onRejected: (events, reason) => console.warn(events.length, reason) });`,
          `export async function use(): Promise<BatchMetrics> {`,
          `  await buffer.add('/app', 's', { timestamp: Date.now(), message: 'm' });`,
          `  // @ts-expect-error: the types are real (were they any, this directive would be unused: an error)`,
          `  await buffer.add('/app', 's', { timestamp: 'now', message: 1 });`,
          `  return buffer.getMetrics();`,
          `}`,
          '',
        ].join('\n'),
      );
      return dir;
    }

    it('a TypeScript consumer type-checks under moduleResolution node16 and under bundler', async () => {
      const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
      // Both at once: each is a single-threaded tsc.
      const [node16, bundler] = await Promise.all(
        (['node16', 'bundler'] as const).map((resolution) => {
          const dir = writeTypeScriptConsumer(resolution);
          return run(process.execPath, [tsc, '-p', dir], { cwd: dir });
        }),
      );
      expect({ output: node16!.stdout + node16!.stderr, code: node16!.code }).toEqual({ output: '', code: 0 });
      expect({ output: bundler!.stdout + bundler!.stderr, code: bundler!.code }).toEqual({ output: '', code: 0 });
    }, 240_000);
  });
});

