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

/**
 * `500`, `500ms`, `5s`, `2m`, `1h` → milliseconds (a bare number is milliseconds), within
 * [`min`, `max`] ms (default 0 to 2^53 - 1; a duration used as a timer's delay must stay at or
 * under {@link MAX_TIMER_MS}).
 */
export function parseDuration(flag: string, value: string | undefined, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  const match = DURATION.exec(value.trim());
  const range = `${formatDuration(min)} to ${formatDuration(max)}`;
  const bounded = min !== 0 || max !== Number.MAX_SAFE_INTEGER;
  if (match === null) throw new UsageError(`--${flag} expects a duration such as 500ms, 5s or 2m${bounded ? ` (${range})` : ''}, got ${JSON.stringify(value)}`);
  const ms = Math.round(Number(match[1]) * (DURATION_UNITS[match[2] ?? 'ms'] ?? 1));
  if (!(ms >= min && ms <= max)) throw new UsageError(`--${flag} must be between ${range}, got ${JSON.stringify(value)}`);
  return ms;
}

/** The longest delay `setTimeout` accepts, ms (about 24.8 days). */
export const MAX_TIMER_MS = 2_147_483_647;

/** 1500 → "1.5s", 86400000 → "24h": the largest unit that divides evenly enough to read. */
export function formatDuration(ms: number): string {
  for (const [unit, size] of [['h', 3_600_000], ['m', 60_000], ['s', 1_000]] as const) {
    if (ms >= size && Number.isInteger((ms / size) * 10)) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

const SIZE = /^(\d+(?:\.\d+)?)\s*(b|k|kb|kib|m|mb|mib|g|gb|gib)?$/i;
const SIZE_UNITS: Record<string, number> = { b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/**
 * `1048576`, `512K`, `64M`, `64MiB`, `1G` → bytes (binary units; a bare number is bytes), within
 * [`min`, `max`] bytes (default 0 to 2^53 - 1).
 */
export function parseSize(flag: string, value: string | undefined, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  const match = SIZE.exec(value.trim());
  const range = `${formatSize(min)} to ${formatSize(max)}`;
  const bounded = min !== 0 || max !== Number.MAX_SAFE_INTEGER;
  if (match === null) throw new UsageError(`--${flag} expects a size such as 64M or 512K${bounded ? ` (${range})` : ''}, got ${JSON.stringify(value)}`);
  const unit = (match[2] ?? 'b').charAt(0).toLowerCase();
  const bytes = Math.round(Number(match[1]) * (SIZE_UNITS[unit] ?? 1));
  if (!(bytes >= min && bytes <= max)) throw new UsageError(`--${flag} must be between ${range}, got ${JSON.stringify(value)}`);
  return bytes;
}

/** 1048576 → "1M", 1536 → "1.5K": binary units, as {@link parseSize} reads them. */
export function formatSize(bytes: number): string {
  for (const [unit, size] of [['G', 1024 ** 3], ['M', 1024 ** 2], ['K', 1024]] as const) {
    if (bytes >= size && Number.isInteger((bytes / size) * 10)) return `${bytes / size}${unit}`;
  }
  return `${bytes}`;
}

/** One of `allowed` (e.g. `--oversized split|truncate|drop`). */
export function parseChoice<T extends string>(flag: string, value: string | undefined, fallback: T, allowed: readonly T[]): T {
  if (value === undefined) return fallback;
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new UsageError(`--${flag} expects one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`);
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
