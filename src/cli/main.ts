#!/usr/bin/env node
/**
 * `cwbatch`: the command line (issue 4). Thin by design (architecture.md): argument parsing,
 * progress and exit codes; everything else is `src/batch`, `src/aws` and `src/local`.
 * Commands are loaded lazily so that `--help` and `ship --dry-run` work without the optional
 * AWS SDK peer dependency.
 */
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, UsageError } from './usage.js';

const USAGE = `Usage: cwbatch <command> [options]

Commands:
  ship    ship lines from stdin or a file to CloudWatch Logs
  tail    print the events of a log group or stream (from AWS or the embedded endpoint)
  local   run the embedded CloudWatch Logs endpoint in the foreground
  demo    ship a generated workload through the embedded endpoint and prove nothing was lost

Run "cwbatch <command> --help" for the options of a command.`;

type Command = (argv: string[]) => Promise<number>;

const COMMANDS: Record<string, () => Promise<Command>> = {
  ship: async () => (await import('./ship.js')).runShip,
  tail: async () => (await import('./tail.js')).runTail,
  local: async () => (await import('./local.js')).runLocal,
  demo: async () => (await import('./demo.js')).runDemo,
};

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
    // No command at all is a usage error: the usage goes to stderr then, not into a pipe.
    (name === undefined ? process.stderr : process.stdout).write(`${USAGE}\n`);
    return name === undefined ? EXIT_USAGE : EXIT_OK;
  }
  const load = COMMANDS[name];
  if (load === undefined) throw new UsageError(`unknown command ${JSON.stringify(name)}`);
  const command = await load();
  return command(rest);
}

function isMissingSdk(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown } | null;
  return e?.code === 'ERR_MODULE_NOT_FOUND' && typeof e.message === 'string' && e.message.includes('@aws-sdk/');
}

/**
 * A closed output pipe (`cwbatch ship --dry-run | head -c 100`, `cwbatch tail ... | head -2`)
 * ends any command quietly with exit 0: what was written stands, and nobody is left to read the
 * rest. Installed here, before any command runs, so that every command gets it. Any other error
 * of the stream is reported as one line, exit 1.
 */
export function endQuietlyOnClosedPipe(stream: NodeJS.WriteStream, exit: (code: number) => void = (code) => process.exit(code)): void {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE' || error.code === 'ERR_STREAM_DESTROYED') {
      exit(EXIT_OK);
      return;
    }
    process.stderr.write(`cwbatch: writing output failed: ${error.message}\n`);
    exit(EXIT_FAILED);
  });
}

endQuietlyOnClosedPipe(process.stdout);
// A closed stderr only silences progress and messages: the command's work (delivery) goes on.
process.stderr.on('error', () => undefined);

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // Keep-alive sockets or a stdin left open must not hold the process once the work is done.
    process.exit(code);
  },
  (error: unknown) => {
    if (error instanceof UsageError || (error as { code?: unknown } | null)?.code?.toString().startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`cwbatch: ${(error as Error).message}\nRun "cwbatch --help" or "cwbatch <command> --help" for usage.\n`);
      process.exit(EXIT_USAGE);
    }
    if (isMissingSdk(error)) {
      process.stderr.write('cwbatch: this command needs the AWS SDK: npm install @aws-sdk/client-cloudwatch-logs\n');
      process.exit(EXIT_FAILED);
    }
    // Unexpected: still one line, unless CWBATCH_DEBUG asks for the stack.
    const detail = process.env['CWBATCH_DEBUG'] ? String((error as Error).stack ?? error) : String((error as Error).message ?? error);
    process.stderr.write(`cwbatch: ${detail}\n`);
    process.exit(EXIT_FAILED);
  },
);
