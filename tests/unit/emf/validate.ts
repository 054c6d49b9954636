/**
 * Validates an EMF line: the specification's JSON schema (emf-schema.json, cited there) with ajv,
 * plus the rules its text states and the schema cannot (target members, array sizes), with the
 * two later changes of the specification applied to the schema: a DimensionSet holds up to 30
 * keys (it said 9), and a MetricDefinition may carry `StorageResolution` 1 or 60.
 */
import { createRequire } from 'node:module';
import { Ajv } from 'ajv';

const schema = createRequire(import.meta.url)('./emf-schema.json') as Record<string, any>;
const directive = schema['properties']['_aws']['properties']['CloudWatchMetrics']['items']['properties'];
directive['Dimensions']['items']['maxItems'] = 30;
directive['Metrics']['items']['properties']['StorageResolution'] = { type: 'integer', enum: [1, 60] };
// The schema's `$id`s are JSON pointers into itself, which ajv's strict mode refuses to resolve as ids.
const validateSchema = new Ajv({ strict: false, allErrors: true }).compile(schema);

/** Problems of one line (empty: valid). */
export function emfProblems(line: string): string[] {
  let doc: Record<string, any>;
  try {
    doc = JSON.parse(line) as Record<string, any>;
  } catch {
    return ['not JSON'];
  }
  if (!validateSchema(doc)) return (validateSchema.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''}`);
  const problems: string[] = [];
  for (const d of doc['_aws']['CloudWatchMetrics'] as Array<Record<string, any>>) {
    if (d['Metrics'].length > 100) problems.push(`${d['Metrics'].length} metrics in a directive`);
    for (const set of d['Dimensions'] as string[][]) {
      for (const key of set) if (typeof doc[key] !== 'string') problems.push(`dimension target ${key} is not a string member of the root`);
    }
    for (const m of d['Metrics'] as Array<{ Name: string }>) {
      const target = doc[m.Name];
      const ok = typeof target === 'number' || (Array.isArray(target) && target.length <= 100 && target.every((v) => typeof v === 'number'));
      if (!ok) problems.push(`metric target ${m.Name} is not a number or an array of at most 100 numbers`);
    }
  }
  return problems;
}
