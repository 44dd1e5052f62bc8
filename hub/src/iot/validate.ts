// Validation of what devices send. Everything is checked before anything is
// written, so a refused message leaves no trace in the store. Each refusal
// names a `kind` for the bad-input metrics and an `error` for the device.
import { SEVERITIES } from '@sitehub/protocol/iot';
import type { EncodedReading } from './store/types.js';
import { MAX_STRING_VALUE, MIN_TS, NAME_PATTERN, type InputLimits } from './limits.js';

/** A refusal: `kind` for metrics, `error` for the ack; `index` names the reading at fault in a batch. */
export interface Refusal {
  ok: false;
  kind: string;
  error: string;
  index?: number;
}

const refuse = (kind: string, error: string): Refusal => ({ ok: false, kind, error });

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Checks a flat map of scalar values (reading values, state attributes); returns its JSON or a refusal. */
export function checkValues(values: unknown, limits: InputLimits, what: string, allowNull: boolean): string | Refusal {
  if (!isPlainObject(values)) return refuse(`${what}_shape`, `${what} must be an object`);
  const keys = Object.keys(values);
  if (keys.length === 0) return refuse(`${what}_shape`, `${what} must not be empty`);
  if (keys.length > limits.maxValuesPerReading) {
    return refuse(`${what}_size`, `${what} has ${keys.length} keys, at most ${limits.maxValuesPerReading} allowed`);
  }
  for (const key of keys) {
    if (!NAME_PATTERN.test(key)) return refuse(`${what}_shape`, `${what} key ${JSON.stringify(key.slice(0, 80))} is not a valid name`);
    const v = values[key];
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) return refuse(`${what}_shape`, `${what}.${key} must be a finite number`);
    } else if (typeof v === 'string') {
      if (v.length > MAX_STRING_VALUE) return refuse(`${what}_size`, `${what}.${key} is longer than ${MAX_STRING_VALUE} characters`);
    } else if (typeof v !== 'boolean' && !(v === null && allowNull)) {
      return refuse(`${what}_shape`, `${what}.${key} must be a number, string or boolean`);
    }
  }
  const json = JSON.stringify(values);
  if (json.length > limits.maxRecordBytes) {
    return refuse(`${what}_size`, `${what} is ${json.length} bytes, at most ${limits.maxRecordBytes} allowed`);
  }
  return json;
}

/** Checks a device timestamp: an integer ms time, not before 2000, not beyond now + skew. */
export function checkTs(ts: unknown, now: number, limits: InputLimits, what: string): Refusal | undefined {
  if (typeof ts !== 'number' || !Number.isSafeInteger(ts)) return refuse(`${what}_ts`, `${what} ts must be an integer (ms since the epoch)`);
  if (ts < MIN_TS) return refuse(`${what}_ts`, `${what} ts ${ts} is before the year 2000`);
  if (ts > now + limits.maxClockSkewMs) return refuse(`${what}_ts`, `${what} ts ${ts} is in the future (more than ${limits.maxClockSkewMs} ms ahead)`);
  return undefined;
}

/** Validates a `telemetry` payload: one reading or a non-empty array of them. */
export function validateReadings(payload: unknown, limits: InputLimits, now: number): { ok: true; readings: EncodedReading[] } | Refusal {
  const list = Array.isArray(payload) ? payload : [payload];
  if (list.length === 0) return refuse('telemetry_shape', 'telemetry must be a reading or a non-empty array of readings');
  if (list.length > limits.maxReadingsPerBatch) {
    return refuse('telemetry_size', `batch of ${list.length} readings, at most ${limits.maxReadingsPerBatch} allowed`);
  }
  const readings: EncodedReading[] = new Array(list.length);
  for (let i = 0; i < list.length; i++) {
    const r = list[i];
    const at = list.length > 1 ? ` (reading ${i})` : '';
    if (!isPlainObject(r)) return { ...refuse('telemetry_shape', `a reading must be an object { seq, ts, values }${at}`), index: i };
    const { seq, ts, values } = r;
    if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) {
      return { ...refuse('telemetry_seq', `seq must be a non-negative integer${at}`), index: i };
    }
    const badTs = checkTs(ts, now, limits, 'telemetry');
    if (badTs) return { ...badTs, error: badTs.error + at, index: i };
    const json = checkValues(values, limits, 'values', false);
    if (typeof json !== 'string') return { ...json, kind: json.kind.replace('values', 'telemetry'), error: json.error + at, index: i };
    readings[i] = { seq, ts: ts as number, values: values as Record<string, unknown>, valuesJson: json };
  }
  return { ok: true, readings };
}

/** Validates a `state` payload: `{ attrs, ts? }` or a bare attribute map. */
export function validateState(payload: unknown, limits: InputLimits, now: number): { ok: true; attrs: Record<string, unknown>; ts: number } | Refusal {
  if (!isPlainObject(payload)) return refuse('state_shape', 'state must be an object');
  const wrapped = isPlainObject(payload.attrs);
  const attrs = wrapped ? payload.attrs : payload;
  const ts = wrapped && payload.ts !== undefined ? payload.ts : now;
  const badTs = checkTs(ts, now, limits, 'state');
  if (badTs) return badTs;
  const json = checkValues(attrs, limits, 'state', true);
  if (typeof json !== 'string') return json;
  return { ok: true, attrs: attrs as Record<string, unknown>, ts: ts as number };
}

export { SEVERITIES } from '@sitehub/protocol/iot';

/** A validated device event. */
export interface EventInput {
  ts: number;
  kind: string;
  severity: string;
  message: string;
  data: unknown;
}

/** Validates an `event` payload: `{ kind, severity?, message?, data?, ts? }`. */
export function validateEvent(payload: unknown, limits: InputLimits, now: number): { ok: true; event: EventInput } | Refusal {
  if (!isPlainObject(payload)) return refuse('event_shape', 'event must be an object { kind, severity?, message?, data?, ts? }');
  const { kind, severity = 'info', message = '', data = null } = payload;
  const ts = payload.ts ?? now;
  if (typeof kind !== 'string' || !NAME_PATTERN.test(kind)) return refuse('event_shape', 'event kind must be a name like "alarm" or "log"');
  if (typeof severity !== 'string' || !(SEVERITIES as readonly string[]).includes(severity)) {
    return refuse('event_shape', `event severity must be one of ${SEVERITIES.join(', ')}`);
  }
  if (typeof message !== 'string') return refuse('event_shape', 'event message must be a string');
  const badTs = checkTs(ts, now, limits, 'event');
  if (badTs) return badTs;
  const size = message.length + (data === null ? 0 : JSON.stringify(data)?.length ?? 0);
  if (size > limits.maxRecordBytes) return refuse('event_size', `event is ${size} bytes, at most ${limits.maxRecordBytes} allowed`);
  return { ok: true, event: { ts: ts as number, kind, severity, message, data } };
}
