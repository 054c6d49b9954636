/**
 * `cwbatch/aws`: the AWS SDK v3 adapter, and the only code in cwbatch that imports
 * `@aws-sdk/client-cloudwatch-logs` (a dependency of cwbatch).
 */
export { createCloudWatchLogsClient, withSingleAttempt } from './client.js';
export { awsErrorCode, isResourceAlreadyExists, isResourceNotFound } from './errors.js';
export { FAST_BODY_MIDDLEWARE_NAMES, fastPutLogEventsBody, writePutLogEventsBody } from './fast-body.js';
export { createCloudWatchFlushFunction } from './flush-function.js';
export type { CloudWatchFlushFunction, CloudWatchFlushOptions } from './flush-function.js';
export { LOG_GROUP_CLASSES, MAX_TAGS, validateLogGroupCreateOptions } from './group-options.js';
export type { LogGroupClass, LogGroupCreateOptions } from './group-options.js';
export { LogEventsService } from './service.js';
export type {
  CallOptions,
  CreateRetryOptions,
  EnsureLogGroupOptions,
  LogEventsServiceCommonOptions,
  LogEventsServiceOptions,
  PutLogEventsArgs,
} from './service.js';
export { findLogStream, readGroup, readStream } from './read.js';
export type { ReadEvent } from './read.js';
export { compileNameTemplate } from '../batch/name-template.js';
export type { NameFunction, NameSource, NameTemplate } from '../batch/name-template.js';
export { resolveStreamName } from './stream-name.js';
export type { StreamNameSources } from './stream-name.js';
export { DeliveryWarning, TransportSink } from './transport.js';
export type { CloudWatchTransportOptions, TransportFailure, TransportSinkOptions } from './transport.js';
