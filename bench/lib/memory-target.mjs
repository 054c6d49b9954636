/**
 * For bench/pino-memory.mjs: a pino transport target that samples the memory of the worker
 * thread it runs in (every 10 ms: its V8 heap by space, external and ArrayBuffer memory), loads
 * the real target (`$target`, an absolute path or a specifier resolved from here) with the other
 * options, and writes the peaks as JSON to `$out` when the target's stream closes.
 */
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { memoryPeaks } from './memory-peaks.mjs';

export default async function memoryTarget(options) {
  const { $target, $out, ...rest } = options;
  const peaks = memoryPeaks();
  const timer = setInterval(peaks.sample, 10);
  const { default: target } = await import(pathToFileURL(createRequire(import.meta.url).resolve($target)).href);
  const stream = await target(rest);
  // Synchronous: written before thread-stream's own 'close' listener exits the worker.
  stream.prependListener('close', () => {
    clearInterval(timer);
    peaks.sample();
    writeFileSync($out, JSON.stringify(peaks.get()));
  });
  return stream;
}
