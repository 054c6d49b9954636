/** Child processes of the tests (the built CLI, fixture scripts): the one `runChild` of the tests. */
import { spawn, type ChildProcess } from 'node:child_process';

/** How a child ended, and everything it wrote. */
export interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** From spawn to close, ms. */
  ms: number;
}

/** A child still running: its output so far, and its end. */
export interface RunningChild {
  readonly child: ChildProcess;
  readonly stdout: string;
  readonly stderr: string;
  /** Resolves once the child has closed its pipes and exited (a kill included); never rejects. */
  readonly done: Promise<ChildResult>;
}

/** Options of {@link startChild}. */
export interface ChildOptions {
  /** The child's environment; default the parent's. */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Written to stdin, which is then closed unless `keepStdin`. */
  input?: string | Buffer;
  keepStdin?: boolean;
  /** SIGKILL after this long, ms (then `done` reports the signal). Default 45,000. */
  timeoutMs?: number;
  /** Called with each whole line of stdout, as it arrives. */
  onLine?: (line: string) => void;
}

/** Starts `node ...argv` (a script and its arguments) with pipes on stdin, stdout and stderr. */
export function startChild(argv: readonly string[], options: ChildOptions = {}): RunningChild {
  const started = Date.now();
  const child = spawn(process.execPath, argv, { env: options.env ?? process.env, cwd: options.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let partial = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
    if (options.onLine === undefined) return;
    const lines = (partial + d).split('\n');
    partial = lines.pop() as string;
    for (const line of lines) options.onLine(line);
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdin.on('error', () => undefined);
  if (options.input !== undefined) child.stdin.write(options.input);
  if (options.keepStdin !== true) child.stdin.end();
  const done = new Promise<ChildResult>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 45_000);
    const finish = (code: number | null, signal: NodeJS.Signals | null): void => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started });
    };
    child.on('close', finish);
    // A child that could not be spawned at all: reported as ended, with the reason in stderr.
    child.on('error', (error) => {
      stderr += String(error);
      finish(null, null);
    });
  });
  return {
    child,
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    done,
  };
}

/** Runs `node ...argv` to its end. */
export function runChild(argv: readonly string[], options: ChildOptions = {}): Promise<ChildResult> {
  return startChild(argv, options).done;
}
