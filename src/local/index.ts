/**
 * `cwbatch/local`: an embedded CloudWatch Logs endpoint for tests, demos and benchmarks. It
 * speaks AWS JSON 1.1 on loopback, keeps everything in memory, enforces every PutLogEvents rule
 * with AWS's status, `__type` and message (the rules come from `src/batch/rules.ts`), and injects
 * seeded faults on demand.
 */
export { startLocalEndpoint } from './server.js';
export type { LocalEndpoint, LocalEndpointOptions, LocalEndpointStats, LocalEndpointStore } from './server.js';
export { mulberry32 } from './faults.js';
export type { FaultCounters, LocalFaults } from './faults.js';
export type { StoredLogEvent } from './store.js';
export type { ExtractedMetric, ExtractedMetrics } from './emf.js';
export type { MetricFilterValues } from './metric-filters.js';
export type { CompiledFilterPattern } from './filter.js';
export { AWS_DEFAULT_QUOTAS } from './quotas.js';
export type { LocalQuotas, QuotaCounters, QuotaStats, StreamQuotaCounters } from './quotas.js';
