/**
 * Reading lines from stdin or a file, optionally following the file like `tail -F`: it keeps
 * reading as the file grows, and survives rotation (the path renamed away and re-created: the old
 * file is read to its end, then the new one from its start) and truncation (copytruncate: read
 * again from the start). Polls with `stat` (portable, works on network file systems).
 */
import { stat, open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';

/** Receives the lines of one chunk, without their line terminators, in order. */
export type LineSink = (lines: string[]) => Promise<void>;

/** Cuts text into lines; keeps the unfinished last line until more text (or the end) comes. */
export class LineSplitter {
  #partial = '';

  /** Complete lines found in `text` (with what was left over before). */
  push(text: string): string[] {
    if (text.length === 0) return [];
    const lines = (this.#partial + text).split('\n');
    this.#partial = lines.pop() ?? '';
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i] as string;
      if (line.endsWith('\r')) lines[i] = line.slice(0, -1);
    }
    return lines;
  }

  /** The unfinished last line, if any (a file that does not end with a newline), and forgets it. */
  end(text = ''): string[] {
    const rest = this.push(text);
    const last = this.#partial.endsWith('\r') ? this.#partial.slice(0, -1) : this.#partial;
    this.#partial = '';
    if (last.length > 0) rest.push(last);
    return rest;
  }
}

/**
 * Reads `stream` to its end, or until `signal` aborts; then hands over what was already read
 * (nothing the process has consumed is left behind) and returns.
 */
export async function readStreamLines(stream: Readable, sink: LineSink, signal: AbortSignal): Promise<void> {
  const decoder = new StringDecoder('utf8');
  const splitter = new LineSplitter();
  let ended = false;
  let failure: unknown;
  const onEnd = (): void => {
    ended = true;
  };
  const onError = (error: unknown): void => {
    failure = error;
  };
  stream.on('end', onEnd);
  stream.on('error', onError);
  try {
    for (;;) {
      const chunk = stream.read() as Buffer | string | null;
      if (chunk !== null) {
        const lines = splitter.push(typeof chunk === 'string' ? chunk : decoder.write(chunk));
        if (lines.length > 0) await sink(lines);
        continue;
      }
      if (failure !== undefined) throw failure;
      if (ended || stream.readableEnded || stream.destroyed || signal.aborted) break;
      await readableOrEnd(stream, signal);
    }
    const rest = splitter.end(decoder.end());
    if (rest.length > 0) await sink(rest);
  } finally {
    stream.off('end', onEnd);
    stream.off('error', onError);
  }
}

function readableOrEnd(stream: Readable, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      stream.off('readable', done);
      stream.off('end', done);
      stream.off('error', done);
      stream.off('close', done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    stream.on('readable', done);
    stream.on('end', done);
    stream.on('error', done);
    stream.on('close', done);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Options of {@link readFileLines}. */
export interface FileReadOptions {
  /** Keep reading as the file grows and across rotation, until `signal` aborts. */
  follow: boolean;
  /** How often to look for growth, rotation and truncation while following, ms. */
  pollMs: number;
  signal: AbortSignal;
  /** Told about rotation, truncation and a file that is missing for now (one line each). */
  onNotice?: ((message: string) => void) | undefined;
}

interface OpenFile {
  handle: FileHandle;
  ino: number;
  dev: number;
  position: number;
  decoder: StringDecoder;
  splitter: LineSplitter;
}

const BLOCK_BYTES = 256 * 1024;

/**
 * Reads the lines of the file at `path`. Without `follow`, to its end; with `follow`, until the
 * signal aborts, like `tail -F` but from the start of the file (a shipper must not skip what is
 * already there). Throws the `open` error (e.g. ENOENT) only when not following; a follower waits
 * for the file to appear.
 */
export async function readFileLines(path: string, sink: LineSink, options: FileReadOptions): Promise<void> {
  const { follow, signal } = options;
  const notice = options.onNotice ?? ((): void => undefined);
  const block = Buffer.allocUnsafe(BLOCK_BYTES);
  let file: OpenFile | undefined;
  try {
    file = await openFile(path);
  } catch (error) {
    if (!follow || !isMissing(error)) throw error;
    notice(`${path} does not exist yet; waiting for it`);
  }

  /** Reads `f` from its position to its current end. */
  const drain = async (f: OpenFile): Promise<void> => {
    for (;;) {
      const { bytesRead } = await f.handle.read(block, 0, block.length, f.position);
      if (bytesRead === 0) return;
      f.position += bytesRead;
      const lines = f.splitter.push(f.decoder.write(block.subarray(0, bytesRead)));
      if (lines.length > 0) await sink(lines);
      if (signal.aborted) return;
    }
  };
  /** Hands over the unfinished last line of `f` (its writer is done with it). */
  const finishLine = async (f: OpenFile): Promise<void> => {
    const rest = f.splitter.end(f.decoder.end());
    if (rest.length > 0) await sink(rest);
  };

  try {
    for (;;) {
      if (file !== undefined) await drain(file);
      if (!follow || signal.aborted) {
        if (file !== undefined) await finishLine(file);
        return;
      }
      const current = await statOrUndefined(path);
      if (file === undefined) {
        if (current !== undefined) {
          file = await openFile(path).catch(() => undefined);
          if (file !== undefined) continue;
        }
      } else if (current !== undefined && (current.ino !== file.ino || current.dev !== file.dev)) {
        // Rotated: the old file may have got a last write between our read and the rename.
        await drain(file);
        await finishLine(file);
        await file.handle.close();
        file = await openFile(path).catch(() => undefined);
        notice(`${path} was rotated; reading the new file from its start`);
        continue;
      } else if (current !== undefined && current.size < file.position) {
        await finishLine(file);
        file.position = 0;
        notice(`${path} was truncated; reading it again from its start`);
        continue;
      } else if (current !== undefined && current.size > file.position) {
        continue;
      }
      await sleep(options.pollMs, signal);
    }
  } finally {
    await file?.handle.close().catch(() => undefined);
  }
}

async function openFile(path: string): Promise<OpenFile> {
  const handle = await open(path, 'r');
  try {
    const s = await handle.stat();
    return { handle, ino: s.ino, dev: s.dev, position: 0, decoder: new StringDecoder('utf8'), splitter: new LineSplitter() };
  } catch (error) {
    await handle.close();
    throw error;
  }
}

async function statOrUndefined(path: string): Promise<{ ino: number; dev: number; size: number } | undefined> {
  try {
    return await stat(path);
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
}

function isMissing(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === 'ENOENT';
}

/** Sleeps `ms`, or less when `signal` aborts. Never rejects. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) {
      resolve();
      return;
    }
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
