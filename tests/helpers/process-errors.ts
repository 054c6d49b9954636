/**
 * Unhandled rejections and uncaught exceptions while tests run: the library must never cause one.
 * The one place the tests watch for them.
 */
import { afterAll, afterEach, beforeAll, beforeEach, expect } from 'vitest';

/** Collects unhandledRejection / uncaughtException until `dispose()`. */
export function watchProcessErrors(): { errors: unknown[]; dispose: () => void } {
  const errors: unknown[] = [];
  const onError = (error: unknown): void => {
    errors.push(error);
  };
  process.on('unhandledRejection', onError);
  process.on('uncaughtException', onError);
  return {
    errors,
    dispose: () => {
      process.off('unhandledRejection', onError);
      process.off('uncaughtException', onError);
    },
  };
}

/**
 * Fails the file (`'file'`, checked after its last test) or each test (`'test'`, after the test,
 * once stray rejections have had a turn of the event loop to surface) when the process saw an
 * unhandled rejection or an uncaught exception meanwhile. Call at the top of a test file.
 */
export function failOnProcessErrors(scope: 'test' | 'file' = 'test'): void {
  let watch: ReturnType<typeof watchProcessErrors> | undefined;
  const start = (): void => {
    watch = watchProcessErrors();
  };
  const check = async (): Promise<void> => {
    await new Promise((resolve) => setImmediate(resolve));
    watch?.dispose();
    expect(watch?.errors).toEqual([]);
  };
  if (scope === 'file') {
    beforeAll(start);
    afterAll(check);
  } else {
    beforeEach(start);
    afterEach(check);
  }
}
