/**
 * `--profile` for pino's worker thread: a pino transport target that starts the V8 profiler in
 * the worker it runs in (node:inspector), loads the real target (`$target`, resolved from here:
 * `cwbatch/pino`, `pino/file`, ...) with the other options, and writes the profile to `$out`
 * when the target's stream closes. Needed because `node --cpu-prof` writes no profile for pino's
 * worker (thread-stream's worker calls process.exit() once its stream has closed).
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

export default async function profiledTarget(options) {
  const { $target, $out, ...rest } = options;
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.start');
  const { default: target } = await import(pathToFileURL(createRequire(import.meta.url).resolve($target)).href);
  const stream = await target(rest);
  // Synchronous (same-thread session): written before thread-stream's own 'close' listener exits the worker.
  stream.prependListener('close', () => {
    session.post('Profiler.stop', (error, result) => {
      if (error === null) writeFileSync($out, JSON.stringify(result.profile));
      session.disconnect();
    });
  });
  return stream;
}
