/** Usage errors (exit code 2) and parsing of the CLI's number, duration and size flags. */

/** A bad command line: printed as one line plus a hint, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Exit codes (issue 4): everything delivered, something rejected/dropped/failed, bad usage. */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/;
const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/** `500`, `500ms`, `5s`, `2m`, `1h` → milliseconds (a bare number is milliseconds). */
export function parseDuration(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const match = DURATION.exec(value.trim());
  if (match === null) throw new UsageError(`--${flag} expects a duration such as 500ms, 5s or 2m, got ${JSON.stringify(value)}`);
  return Math.round(Number(match[1]) * (DURATION_UNITS[match[2] ?? 'ms'] ?? 1));
}

const SIZE = /^(\d+(?:\.\d+)?)\s*(b|k|kb|kib|m|mb|mib|g|gb|gib)?$/i;
const SIZE_UNITS: Record<string, number> = { b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** `1048576`, `512K`, `64M`, `64MiB`, `1G` → bytes (binary units; a bare number is bytes). */
export function parseSize(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const match = SIZE.exec(value.trim());
  if (match === null) throw new UsageError(`--${flag} expects a size such as 64M or 512K, got ${JSON.stringify(value)}`);
  const unit = (match[2] ?? 'b').charAt(0).toLowerCase();
  return Math.round(Number(match[1]) * (SIZE_UNITS[unit] ?? 1));
}

/** A number within [min, max]. */
export function parseNumber(flag: string, value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max) {
    throw new UsageError(`--${flag} expects a number between ${min} and ${max}, got ${JSON.stringify(value)}`);
  }
  return n;
}

/** Checks a required string flag. */
export function required(flag: string, value: string | undefined): string {
  if (value === undefined || value === '') throw new UsageError(`--${flag} is required`);
  return value;
}
