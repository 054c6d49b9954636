/**
 * Starts `moto_server` (Python moto) on a free loopback port for differential tests, and stops
 * it by its process id. Resolves `undefined` (with a console warning saying why) when moto is
 * not installed, so callers can `describe.skipIf(!moto)`.
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

/** A running moto_server. */
export interface MotoServer {
  /** e.g. `http://127.0.0.1:40123`. */
  readonly url: string;
  /** The process id (of the process group leader). */
  readonly pid: number;
  /** Clears moto's state (all services) through its reset API. */
  reset(): Promise<void>;
  /** Stops the server (SIGTERM to its process group, SIGKILL after 3 s). Idempotent. */
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();

// If a test run dies without calling stop(), still kill every server we started (by pid).
process.once('exit', () => {
  for (const child of running) killGroup(child, 'SIGKILL');
});

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    // Negative pid: the process group we created with `detached`, so a shim's child dies too.
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
  }
}

/** A port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Whether `moto_server` is on PATH. */
export function motoAvailable(): boolean {
  const probe = spawnSync('sh', ['-c', 'command -v moto_server'], { encoding: 'utf8' });
  return probe.status === 0 && probe.stdout.trim() !== '';
}

/**
 * Starts moto_server and waits (up to `timeoutMs`) until it answers. Resolves `undefined`, with a
 * console warning, when moto_server is absent or does not come up.
 */
export async function startMoto(timeoutMs = 30_000): Promise<MotoServer | undefined> {
  if (!motoAvailable()) {
    console.warn('moto_server is not on PATH: skipping the moto comparison (install with `pip install "moto[server]"`).');
    return undefined;
  }
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const child = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], {
      stdio: ['ignore', 'ignore', 'pipe'],
      detached: true,
    });
    running.add(child);
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-4000);
    });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.once('error', () => undefined);
    const url = `http://127.0.0.1:${port}`;
    const up = await waitUntilUp(url, child, timeoutMs);
    if (up) {
      let stopped: Promise<void> | undefined;
      return {
        url,
        pid: child.pid as number,
        async reset() {
          await fetch(`${url}/moto-api/reset`, { method: 'POST' });
        },
        stop() {
          stopped ??= (async () => {
            killGroup(child, 'SIGTERM');
            const timer = setTimeout(() => killGroup(child, 'SIGKILL'), 3_000);
            timer.unref();
            await exited;
            clearTimeout(timer);
            running.delete(child);
          })();
          return stopped;
        },
      };
    }
    killGroup(child, 'SIGKILL');
    await exited;
    running.delete(child);
    if (attempt === 2) console.warn(`moto_server did not come up on ${url}: skipping the moto comparison.\n${stderr}`);
  }
  return undefined;
}

async function waitUntilUp(url: string, child: ChildProcess, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) return false;
    try {
      const response = await fetch(`${url}/moto-api/`, { signal: AbortSignal.timeout(1_000) });
      await response.arrayBuffer();
      return true;
    } catch {
      // not listening yet: poll again shortly (a readiness probe, not a test delay)
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  return false;
}
