// The hub's configuration: every setting, its default, and the validation
// that turns a wrong value into a message naming the setting and its source.
import { DEFAULT_LIMITS } from '@sitehub/protocol/iot';

/** Everything createHub() needs; every field has a safe default (see DEFAULT_CONFIG). */
export interface HubConfig {
  /** Folder for the database and the admin token file. */
  dataDir: string;
  /** Database file; relative paths are inside dataDir. */
  databaseFile: string;
  /** TCP port (0 picks a free one). */
  port: number;
  /** Interface to listen on. */
  host: string;
  /** Admin token for the REST API and /console; when unset, one is generated on first start and kept in dataDir. */
  adminToken: string | undefined;
  /** With a key, an unknown device that presents it may register itself on first connect. */
  enrollmentKey: string | undefined;
  /** pino level: fatal, error, warn, info, debug, trace or silent. */
  logLevel: string;
  /** Telemetry, events, state history and presence history older than this are pruned. */
  retentionDays: number;
  /** How often retention runs, in ms. */
  pruneIntervalMs: number;
  /** How long bridges can resume from a stream position, in ms; 0 means as long as retentionDays. */
  streamRetentionMs: number;
  /** Largest Socket.IO message a client may send, in bytes. Above 10 MB so that an oversize telemetry batch is answered with an ack error rather than a dropped connection. */
  maxMessageBytes: number;
  /** Most readings in one telemetry event. */
  maxReadingsPerBatch: number;
  /** Most keys in one reading's values (and in one state update). */
  maxValuesPerReading: number;
  /** Largest JSON size of one reading's values, state update or event, in bytes. */
  maxRecordBytes: number;
  /** How far in the future a device timestamp may be, in ms (clock skew allowance). */
  maxClockSkewMs: number;
  /** Milliseconds a device has to answer a command before it is sent again. */
  commandAckTimeoutMs: number;
  /** Sends of a command (first one included) before it is marked failed. */
  commandMaxAttempts: number;
  /** Default lifetime of a command, in ms, after which an undelivered one expires. */
  commandTtlMs: number;
  /** Most jobs one group commit takes. */
  writerMaxBatch: number;
  /** Heartbeat interval, ms (Engine.IO pingInterval). */
  pingIntervalMs: number;
  /** Heartbeat timeout, ms (Engine.IO pingTimeout). */
  pingTimeoutMs: number;
}

/** The embedded defaults `sitehub` runs with. */
export const DEFAULT_CONFIG: HubConfig = {
  dataDir: './data',
  databaseFile: 'sitehub.db',
  port: 3000,
  host: '0.0.0.0',
  adminToken: undefined,
  enrollmentKey: undefined,
  logLevel: 'info',
  retentionDays: 30,
  pruneIntervalMs: 3_600_000,
  streamRetentionMs: 0,
  maxMessageBytes: DEFAULT_LIMITS.maxMessageBytes,
  maxReadingsPerBatch: DEFAULT_LIMITS.maxReadingsPerBatch,
  maxValuesPerReading: DEFAULT_LIMITS.maxValuesPerReading,
  maxRecordBytes: DEFAULT_LIMITS.maxRecordBytes,
  maxClockSkewMs: DEFAULT_LIMITS.maxClockSkewMs,
  commandAckTimeoutMs: 10_000,
  commandMaxAttempts: 3,
  commandTtlMs: 24 * 3_600_000,
  writerMaxBatch: 5000,
  pingIntervalMs: 25_000,
  pingTimeoutMs: 20_000,
};

type Kind = 'string' | 'optionalString' | 'port' | 'positiveInt' | 'nonNegativeInt' | 'level';

/** The kind of each setting, used to parse environment/flag strings and to validate. */
export const CONFIG_KINDS: Record<keyof HubConfig, Kind> = {
  dataDir: 'string',
  databaseFile: 'string',
  port: 'port',
  host: 'string',
  adminToken: 'optionalString',
  enrollmentKey: 'optionalString',
  logLevel: 'level',
  retentionDays: 'positiveInt',
  pruneIntervalMs: 'positiveInt',
  streamRetentionMs: 'nonNegativeInt',
  maxMessageBytes: 'positiveInt',
  maxReadingsPerBatch: 'positiveInt',
  maxValuesPerReading: 'positiveInt',
  maxRecordBytes: 'positiveInt',
  maxClockSkewMs: 'nonNegativeInt',
  commandAckTimeoutMs: 'positiveInt',
  commandMaxAttempts: 'positiveInt',
  commandTtlMs: 'positiveInt',
  writerMaxBatch: 'positiveInt',
  pingIntervalMs: 'positiveInt',
  pingTimeoutMs: 'positiveInt',
};

const LEVELS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

/** A configuration problem; `message` names the setting, the source and what is expected. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Checks one value against its kind; returns a description of the problem, or undefined. */
function problem(kind: Kind, value: unknown): string | undefined {
  switch (kind) {
    case 'string':
      return typeof value === 'string' && value.length > 0 ? undefined : 'a non-empty string';
    case 'optionalString':
      return value === undefined || (typeof value === 'string' && value.length >= 8) ? undefined : 'a string of at least 8 characters';
    case 'port':
      return Number.isInteger(value) && (value as number) >= 0 && (value as number) <= 65535 ? undefined : 'an integer from 0 to 65535';
    case 'positiveInt':
      return Number.isSafeInteger(value) && (value as number) > 0 ? undefined : 'a positive integer';
    case 'nonNegativeInt':
      return Number.isSafeInteger(value) && (value as number) >= 0 ? undefined : 'an integer >= 0';
    case 'level':
      return typeof value === 'string' && LEVELS.has(value) ? undefined : `one of ${[...LEVELS].join(', ')}`;
  }
}

/** A setting's value with where it came from, for error messages. */
export interface SourcedValue {
  value: unknown;
  source: string;
}

/** Validates the merged settings; throws a ConfigError listing every problem at once. */
export function validateConfig(settings: Partial<Record<string, SourcedValue>>): HubConfig {
  const errors: string[] = [];
  const config: Record<string, unknown> = { ...DEFAULT_CONFIG };
  for (const [key, entry] of Object.entries(settings)) {
    if (!entry) continue;
    if (!(key in CONFIG_KINDS)) {
      errors.push(`${entry.source}: unknown setting "${key}"`);
      continue;
    }
    const kind = CONFIG_KINDS[key as keyof HubConfig];
    const bad = problem(kind, entry.value);
    if (bad) errors.push(`${entry.source}: "${key}" must be ${bad}, got ${JSON.stringify(entry.value)}`);
    else config[key] = entry.value;
  }
  if (errors.length) throw new ConfigError(`invalid configuration:\n  ${errors.join('\n  ')}`);
  return config as unknown as HubConfig;
}

/** Fills in defaults for a partial config given in code (createHub), validating it. */
export function resolveConfig(partial: Partial<HubConfig> = {}): HubConfig {
  const settings: Record<string, SourcedValue> = {};
  for (const [key, value] of Object.entries(partial)) {
    if (value !== undefined) settings[key] = { value, source: 'createHub config' };
  }
  return validateConfig(settings);
}
