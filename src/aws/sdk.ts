/**
 * The AWS SDK's CloudWatch Logs client package, loaded with `require` rather than `import`.
 *
 * The package is CommonJS for Node (`dist-cjs`). Imported from an ES module, Node first reads and
 * lexes its ~180 KB entry file to find its export names (cjs-module-lexer): about 2.5 MiB more
 * resident memory for the life of the process than `require` (issue 6: `cwbatch/winston` started
 * 6 MiB above winston-cloudwatch, which requires the same package). It is the same module either
 * way (one entry in require's cache), so a client built by the application and commands built
 * here still belong together. Types come from the usual `import type`.
 */
import { createRequire } from 'node:module';
import type * as CloudWatchLogs from '@aws-sdk/client-cloudwatch-logs';

const load = createRequire(import.meta.url);

/** `@aws-sdk/client-cloudwatch-logs`, as `require` returns it. */
export const sdk = load('@aws-sdk/client-cloudwatch-logs') as typeof CloudWatchLogs;
