/**
 * The public surface of every package subpath (package.json `exports`), values and types alike,
 * read with the TypeScript compiler: a refactor that adds, drops or renames an export fails here
 * first (issue 14: "public exports unchanged (a test lists them)"). Change the list only on purpose.
 */
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

const EXPECTED: Record<string, string[]> = {
  'src/batch/index.ts': [
    'BatchBuffer',
    'BatchBufferImpl',
    'BatchBufferOptions',
    'BatchConfig',
    'BatchHooks',
    'BatchLimits',
    'BatchMetrics',
    'BatchViolation',
    'BufferStoppedError',
    'CwbatchError',
    'DEFAULT_BATCH_CONFIG',
    'DropReason',
    'EVENT_OVERHEAD_BYTES',
    'ErrorKind',
    'FlushContext',
    'FlushFailedError',
    'FlushFunction',
    'FlushResult',
    'FlushTimeoutError',
    'InputLogEvent',
    'InvalidFlushResultError',
    'InvalidLogEventError',
    'InvalidNameError',
    'LEGACY_MAX_EVENT_BYTES',
    'MAX_BATCH_BYTES',
    'MAX_BATCH_EVENTS',
    'MAX_BATCH_SPAN_MS',
    'MAX_EVENT_AGE_MS',
    'MAX_EVENT_BYTES',
    'MAX_EVENT_FUTURE_MS',
    'MAX_NAME_LENGTH',
    'OverflowPolicy',
    'OversizedEventInfo',
    'OversizedEventPolicy',
    'PlanLimits',
    'PlannedBatch',
    'RejectReason',
    'RejectedLogEventsInfo',
    'RetryInfo',
    'SequenceTokenManager',
    'ShutdownHandlerOptions',
    'ShutdownInfo',
    'ShutdownReason',
    'SpoolCorruptionError',
    'SpoolFsync',
    'SpoolLockedError',
    'SpoolOptions',
    'StopOptions',
    'StructuredLogEvent',
    'backoffDelay',
    'calculateEventSize',
    'classifyError',
    'eventTimestamp',
    'findBatchViolation',
    'installShutdownHandlers',
    'isRetryable',
    'logGroupNameProblem',
    'logStreamNameProblem',
    'planBatches',
    'serializeStructuredEvent',
    'sortByTimestamp',
    'splitMessage',
    'truncateMessage',
    'utf8ByteLength',
    'validateBatchConfig',
  ],
  'src/aws/index.ts': [
    'CallOptions',
    'CloudWatchFlushFunction',
    'CloudWatchFlushOptions',
    'CloudWatchTransportOptions',
    'DeliveryWarning',
    'EnsureLogGroupOptions',
    'FAST_BODY_MIDDLEWARE_NAMES',
    'LogEventsService',
    'LogEventsServiceOptions',
    'PutLogEventsArgs',
    'ReadEvent',
    'StreamNameSources',
    'TransportFailure',
    'TransportSink',
    'TransportSinkOptions',
    'awsErrorCode',
    'createCloudWatchFlushFunction',
    'createCloudWatchLogsClient',
    'fastPutLogEventsBody',
    'findLogStream',
    'isResourceAlreadyExists',
    'isResourceNotFound',
    'readGroup',
    'readStream',
    'resolveStreamName',
    'withSingleAttempt',
    'writePutLogEventsBody',
  ],
  'src/local/index.ts': [
    'FaultCounters',
    'LocalEndpoint',
    'LocalEndpointOptions',
    'LocalEndpointStats',
    'LocalEndpointStore',
    'LocalFaults',
    'StoredLogEvent',
    'mulberry32',
    'startLocalEndpoint',
  ],
  'src/pino/index.ts': [
    'PINO_MAX_BUFFERED_BYTES',
    'PINO_SHUTDOWN_TIMEOUT_MS',
    'PinoTransportOptions',
    'PinoTransportStream',
    'default',
  ],
  'src/winston/index.ts': [
    'CloudWatchTransport',
    'DeliveryWarning',
    'TransportFailure',
    'WinstonTransportOptions',
    'default',
  ],
};

it('every package subpath exports exactly the listed names (values and types)', () => {
  const entries = Object.keys(EXPECTED).map((path) => ROOT + path);
  const program = ts.createProgram(entries, {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    strict: true,
    noEmit: true,
    skipLibCheck: true,
  });
  const checker = program.getTypeChecker();
  const actual: Record<string, string[]> = {};
  for (const path of Object.keys(EXPECTED)) {
    const file = program.getSourceFile(ROOT + path);
    expect(file, path).toBeDefined();
    const symbol = checker.getSymbolAtLocation(file as ts.SourceFile);
    expect(symbol, path).toBeDefined();
    actual[path] = checker.getExportsOfModule(symbol as ts.Symbol).map((s) => s.name).sort();
  }
  expect(actual).toEqual(EXPECTED);
});

it('the package.json exports map names exactly these subpaths', async () => {
  const pkg = (await import('../../../package.json', { with: { type: 'json' } })).default as { exports: Record<string, unknown> };
  const subpaths = Object.keys(pkg.exports).filter((key) => key !== './package.json');
  const dirs = subpaths.map((key) => (key === '.' ? 'batch' : key.slice(2)));
  expect(dirs.map((d) => `src/${d}/index.ts`).sort()).toEqual(Object.keys(EXPECTED).sort());
});
