/**
 * Peaks of this thread's memory, sampled on demand: its V8 heap (total, used, new and old space,
 * large objects: old and young together),
 * external and ArrayBuffer memory, and the process's RSS. In a worker thread the heap figures are
 * the worker's own isolate; RSS is always the whole process's.
 */
import v8 from 'node:v8';

export function memoryPeaks() {
  const peak = { rss: 0, heapTotal: 0, heapUsed: 0, newSpace: 0, oldSpace: 0, largeObjects: 0, external: 0, arrayBuffers: 0 };
  const sample = () => {
    const m = process.memoryUsage();
    for (const key of ['rss', 'heapTotal', 'heapUsed', 'external', 'arrayBuffers']) peak[key] = Math.max(peak[key], m[key]);
    let large = 0;
    for (const space of v8.getHeapSpaceStatistics()) {
      if (space.space_name === 'new_space') peak.newSpace = Math.max(peak.newSpace, space.space_size);
      if (space.space_name === 'old_space') peak.oldSpace = Math.max(peak.oldSpace, space.space_size);
      if (space.space_name === 'large_object_space' || space.space_name === 'new_large_object_space') large += space.space_size;
    }
    peak.largeObjects = Math.max(peak.largeObjects, large);
  };
  return { sample, get: () => ({ ...peak }) };
}
