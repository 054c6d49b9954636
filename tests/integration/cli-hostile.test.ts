/**
 * `cwbatch` against input as it really arrives and endpoints that hang (issue 21): the BUILT
 * command in a child process. Waits are on observable state (stored events, the child's output),
 * never on time.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliEnv, runCli, startCli } from '../fixtures/cli/run-cli.js';
import { ROOT } from '../helpers/build.js';
import { startLocalEndpoint } from '../../src/local/index.js';
import { useLocalEndpoint } from '../helpers/endpoint.js';
import { useTempDir } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/wait-for.js';

const fixture = useLocalEndpoint({ cli: true, resetEach: true });
const work = useTempDir('cwbatch-hostile-');

/** A TCP server on loopback that accepts connections and never answers. */
async function silentServer(port = 0): Promise<{ server: Server; url: string; port: number; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const actual = (server.address() as { port: number }).port;
  return {
    server,
    port: actual,
    url: `http://127.0.0.1:${actual}`,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const lines = (tag: string, from: number, to: number): string => {
  let text = '';
  for (let i = from; i < to; i++) text += `${tag} ${i}\n`;
  return text;
};

describe('an endpoint that accepts connections and never answers', () => {
  it('ship: says it is waiting within a few seconds, then one clear line and exit 1 at --request-timeout', async () => {
    const silent = await silentServer();
    try {
      const started = Date.now();
      const result = await runCli(['ship', '-g', 'g', '-s', 's', '--endpoint', silent.url, '--request-timeout', '4s'], { env: cliEnv(undefined), input: 'x\n' });
      const elapsed = Date.now() - started;
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(
        `cwbatch: waiting for CloudWatch Logs at ${silent.url} to answer (up to 4.0 s, --request-timeout)\n` +
          `cwbatch: no answer from CloudWatch Logs at ${silent.url} within 4 s (--request-timeout)\n`,
      );
      expect(elapsed).toBeGreaterThanOrEqual(4_000);
      expect(elapsed).toBeLessThan(15_000); // the timeout plus process start-up on a loaded machine
    } finally {
      await silent.close();
    }
  });

  it('ship --spool: spools, says so once, keeps trying, and delivers once the endpoint answers', async () => {
    const silent = await silentServer();
    const spool = join(work.path, 'spool-silent');
    const cli = startCli(
      ['ship', '-g', 'cli/silent', '-s', 's', '--endpoint', silent.url, '--spool', spool, '--request-timeout', '500ms', '--connect-timeout', '500ms', '--flush-interval', '100ms'],
      { env: cliEnv(undefined), keepStdin: true, timeoutMs: 90_000 },
    );
    await waitFor(() => cli.stderr.includes('--spool: keeping lines in'), 'the spooling notice');
    expect(cli.stderr).toContain(`no answer from CloudWatch Logs at ${silent.url} within 0.5 s (--request-timeout); --spool: keeping lines in ${spool} and retrying until it answers`);
    cli.child.stdin!.write(lines('spooled', 0, 100));
    const spooledBytes = (): number => (existsSync(spool) ? readdirSync(spool).filter((f) => f.endsWith('.log')).reduce((n, f) => n + statSync(join(spool, f)).size, 0) : 0);
    await waitFor(() => spooledBytes() > 100 * 10, 'the lines in the spool');

    // The endpoint comes back on the same port.
    await silent.close();
    const real = await startLocalEndpoint({ port: silent.port });
    try {
      await waitFor(() => real.store.eventCount('cli/silent', 's') === 100, 'the 100 spooled lines delivered', 60_000);
      cli.child.stdin!.end(lines('later', 0, 10));
      const result = await cli.done;
      expect(result.code).toBe(0);
      expect(result.stderr.match(/--spool: keeping lines in/g)).toHaveLength(1);
      expect(result.stderr).toMatch(/110 lines read · 110 events delivered/);
      expect(real.store.events('cli/silent', 's').map((e) => e.message).sort()).toEqual([...lines('spooled', 0, 100).trim().split('\n'), ...lines('later', 0, 10).trim().split('\n')].sort());
    } finally {
      await real.close();
    }
  });
});

describe('ship --spool at the shutdown deadline', () => {
  it('events kept on disk are reported as kept, exit 0; the next run delivers them', async () => {
    const spool = join(work.path, 'spool-kept');
    fixture.endpoint.setFaults({ unavailableRate: 1 });
    const first = await runCli(['ship', '-g', 'cli/kept', '-s', 's', '--spool', spool, '--shutdown-timeout', '1s'], { env: cliEnv(fixture.endpoint.url), input: lines('kept', 0, 50) });
    expect(first.stderr).toMatch(/50 lines read · 0 events delivered .* dropped 0 · kept 50 in .*spool-kept for the next run \(not delivered within --shutdown-timeout 1.0 s\)/);
    expect(first.code).toBe(0);

    fixture.endpoint.setFaults({});
    const second = await runCli(['ship', '-g', 'cli/kept', '-s', 's', '--spool', spool], { env: cliEnv(fixture.endpoint.url), input: '' });
    expect(second.code).toBe(0);
    expect(fixture.endpoint.store.eventCount('cli/kept', 's')).toBe(50);
  });
});

describe('usage errors', () => {
  it.each([
    [['--max-buffer', '99999999G'], '--max-buffer must be between 1M to 64G, got "99999999G"'],
    [['--flush-interval', '1000h'], '--flush-interval must be between 1ms to 24h, got "1000h"'],
    [['--shutdown-timeout', '1000h'], '--shutdown-timeout must be between 0ms to 24h, got "1000h"'],
    [['--endpoint', 'not a url'], '--endpoint expects an http:// or https:// URL such as http://127.0.0.1:4588, got "not a url"'],
    [['--request-timeout', '0'], '--request-timeout must be between 1ms to 10m, got "0"'],
    [['--oversized', 'shrink'], '--oversized expects one of split, truncate, drop, got "shrink"'],
  ])('ship %j: exit 2, naming the flag and the accepted range', async (args, message) => {
    const result = await runCli(['ship', '-g', 'g', '-s', 's', ...args], { env: cliEnv(fixture.endpoint.url), input: 'x\n' });
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(`cwbatch: ${message}\nRun "cwbatch --help" or "cwbatch <command> --help" for usage.\n`);
  });
});

describe('a closed output pipe', () => {
  it('ship --dry-run | head -c 100: exits 0 quietly', async () => {
    const cli = startCli(['ship', '-g', 'g', '-s', 's', '--dry-run', '--flush-interval', '10ms'], { env: cliEnv(undefined), keepStdin: true });
    cli.child.stdin!.write(lines('pipe', 0, 50_000));
    await waitFor(() => cli.stdout.length >= 100, 'the first 100 bytes');
    cli.child.stdout!.destroy(); // what `head -c 100` does once it has its bytes
    cli.child.stdin!.end(lines('pipe', 50_000, 60_000));
    const result = await cli.done;
    expect(result.code).toBe(0);
    expect(result.stderr).not.toMatch(/EPIPE|Error|\n\s+at /);
  });

  it('tail | head -2: exits 0 quietly', async () => {
    const env = cliEnv(fixture.endpoint.url);
    expect((await runCli(['ship', '-g', 'cli/epipe', '-s', 's'], { env, input: lines('event', 0, 20_000) })).code).toBe(0);
    const tail = startCli(['tail', '-g', 'cli/epipe', '-s', 's'], { env });
    await waitFor(() => tail.stdout.split('\n').length > 2, 'two lines');
    tail.child.stdout!.destroy();
    const result = await tail.done;
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
  });
});

describe('input as it really arrives', () => {
  it('invalid UTF-8 is counted in the summary; --invalid-utf8 drop drops those lines', async () => {
    const input = Buffer.concat([Buffer.from('ok\nbad '), Buffer.from([0xff, 0xfe]), Buffer.from(' here\nalso '), Buffer.from([0xc3]), Buffer.from('\n')]);
    const replace = await runCli(['ship', '-g', 'cli/utf8', '-s', 'replace'], { env: cliEnv(fixture.endpoint.url), input });
    expect(replace.code).toBe(0);
    expect(replace.stderr).toContain('3 lines read · 3 events delivered to cli/utf8 / replace in 1 batches · invalid UTF-8: 3 bytes in 2 lines, replaced by U+FFFD');
    expect(fixture.endpoint.store.events('cli/utf8', 'replace').map((e) => e.message)).toEqual(['ok', 'bad \uFFFD\uFFFD here', 'also \uFFFD']);

    const drop = await runCli(['ship', '-g', 'cli/utf8', '-s', 'drop', '--invalid-utf8', 'drop'], { env: cliEnv(fixture.endpoint.url), input });
    expect(drop.code).toBe(0);
    expect(drop.stderr).toContain('invalid UTF-8: 3 bytes in 2 lines, 2 dropped');
    expect(fixture.endpoint.store.events('cli/utf8', 'drop').map((e) => e.message)).toEqual(['ok']);
  });

  it('--multiline auto joins a stack trace; --multiline-timeout sends an incomplete one while input stays open', async () => {
    const trace = ['Error: connect ECONNREFUSED', '    at TCPConnectWrap.afterConnect (node:net:1555:16)', '    at Socket.emit (node:events:517:28)'];
    const cli = startCli(['ship', '-g', 'cli/multi', '-s', 's', '--multiline', 'auto', '--multiline-timeout', '200ms', '--flush-interval', '50ms'], {
      env: cliEnv(fixture.endpoint.url),
      keepStdin: true,
    });
    cli.child.stdin!.write(`started\n${trace.join('\n')}\n`);
    // Nothing follows the trace: it can only be complete once the timeout passed.
    await waitFor(() => fixture.endpoint.store.eventCount('cli/multi', 's') === 2, 'the trace sent after --multiline-timeout');
    cli.child.stdin!.end('done\n');
    const result = await cli.done;
    expect(result.code).toBe(0);
    expect(fixture.endpoint.store.events('cli/multi', 's').map((e) => e.message)).toEqual(['started', trace.join('\n'), 'done']);
    expect(result.stderr).toContain('5 lines read · 3 events delivered to cli/multi / s in');
    expect(result.stderr).toContain('1 multi-line events from 3 lines');
  });

  it('a 60 MB line without a newline: delivered in parts with the lines around it, in bounded memory', async () => {
    const MB = 1024 * 1024;
    const cli = startCli(['ship', '-g', 'cli/long', '-s', 's', '--flush-interval', '100ms'], {
      env: cliEnv(fixture.endpoint.url),
      keepStdin: true,
      timeoutMs: 120_000,
      nodeArgs: ['--import', join(ROOT, 'tests', 'fixtures', 'cli', 'report-rss.mjs')],
    });
    const stdin = cli.child.stdin!;
    const write = (chunk: string): Promise<void> => new Promise((resolve) => (stdin.write(chunk) ? resolve() : stdin.once('drain', resolve)));
    await write('before\n');
    const block = 'x'.repeat(64 * 1024);
    for (let i = 0; i < 60 * 16; i++) await write(block); // 60 MiB, written as it is produced
    stdin.end('\nafter\n');
    const result = await cli.done;
    expect(result.code).toBe(0);
    const peakMiB = Number(/peak-rss (\d+)/.exec(result.stderr)?.[1]) / 1024;
    // Held whole, the line alone costs more than 60 MiB (and ~10x that as it used to be handled).
    expect(peakMiB).toBeLessThan(160);
    const messages = fixture.endpoint.store.events('cli/long', 's').map((e) => e.message);
    expect(messages[0]).toBe('before');
    expect(messages.at(-1)).toBe('after');
    const parts = messages.slice(1, -1);
    expect(parts.length).toBe(Math.ceil((60 * MB) / (1_048_576 - 26)));
    for (const p of parts) expect(p.length).toBeLessThanOrEqual(1_048_576 - 26);
    expect(parts.join('')).toBe('x'.repeat(60 * MB));
    expect(result.stderr).toContain('3 lines read · 63 events delivered');
    expect(result.stderr).toContain('1 lines over the largest event split into 61 events');
  });
});
