// Turns a parsed record into reading values the hub accepts: the source's
// field -> metric map and prefix, then the hub's rules on names and values,
// so that one odd field never makes the hub refuse a whole batch.
import { NAME_PATTERN } from '@sitehub/protocol/iot';
import type { ReadingValue } from '../outbox.js';
import type { ParsedRecord } from './parsers/index.js';

const METRIC = NAME_PATTERN;
/** The hub's default limits on one reading. */
export const MAX_VALUES_PER_READING = 64;
export const MAX_STRING_VALUE = 1024;

/** How a source names its values. */
export interface MetricMapping {
  map?: Record<string, string>;
  prefix?: string;
}

/** Reading values for `record`, or null when nothing valid is left. */
export function toValues(record: ParsedRecord, mapping: MetricMapping): Record<string, ReadingValue> | null {
  const values: Record<string, ReadingValue> = {};
  let count = 0;
  for (const [field, value] of Object.entries(record)) {
    let name = field;
    if (mapping.map) {
      if (!Object.hasOwn(mapping.map, field)) continue;
      name = mapping.map[field];
    }
    if (mapping.prefix) name = mapping.prefix + name;
    if (!METRIC.test(name)) continue;
    if (typeof value === 'number' ? !Number.isFinite(value) : typeof value === 'string' ? value.length > MAX_STRING_VALUE : typeof value !== 'boolean') continue;
    values[name] = value;
    if (++count >= MAX_VALUES_PER_READING) break;
  }
  return count > 0 ? values : null;
}
