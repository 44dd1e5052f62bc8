// Validating the hub's configuration: each value against its setting's kind,
// with a message naming the setting, where the value came from, and what is
// expected; every problem at once.
import { compileTrust, type TrustProxy } from '../engine/index.js';
import { CONFIG_KINDS, DEFAULT_CONFIG, type HubConfig, type Kind, type TlsClientAuth } from './schema.js';
import { tlsSettingProblems } from './tls.js';

/** trustProxy as given in a file, the environment or a flag: a boolean, "true"/"false", or a list of addresses / CIDR ranges. */
function normalizeTrustProxy(value: unknown): TrustProxy | undefined {
  if (typeof value === 'boolean') return value;
  if (value === 'true' || value === 'false') return value === 'true';
  const list = typeof value === 'string' ? value.split(',') : Array.isArray(value) && value.every((v) => typeof v === 'string') ? (value as string[]) : undefined;
  const entries = list?.map((v) => v.trim()).filter((v) => v !== '');
  // A hop count cannot tell a proxy from a client that reached the hub directly: refused, as fastify does.
  if (!entries || entries.length === 0 || entries.some((v) => /^\d+$/.test(v))) return undefined;
  try {
    compileTrust(entries);
  } catch {
    return undefined;
  }
  return entries;
}

const LEVELS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);
const CLIENT_AUTH = new Set<string>(['off', 'optional', 'devices', 'required'] satisfies TlsClientAuth[]);

/** A configuration problem; `message` names the setting, the source and what is expected. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Whether `value` is an http(s) origin exactly as a browser sends it in the Origin header. */
function isOrigin(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.origin === value;
  } catch {
    return false;
  }
}

/** Checks one value against its kind; returns a description of the problem, or undefined. */
function problem(kind: Kind, value: unknown): string | undefined {
  switch (kind) {
    case 'boolean':
      return typeof value === 'boolean' ? undefined : 'true or false';
    case 'string':
      return typeof value === 'string' && value.length > 0 ? undefined : 'a non-empty string';
    case 'optionalString':
      return value === undefined || (typeof value === 'string' && value.length >= 8) ? undefined : 'a string of at least 8 characters';
    case 'optionalName':
      return value === undefined || (typeof value === 'string' && /^[A-Za-z0-9._-]{1,64}$/.test(value)) ? undefined : '1 to 64 letters, digits, ".", "_" or "-"';
    case 'port':
      return Number.isInteger(value) && (value as number) >= 0 && (value as number) <= 65535 ? undefined : 'an integer from 0 to 65535';
    case 'positiveInt':
      return Number.isSafeInteger(value) && (value as number) > 0 ? undefined : 'a positive integer';
    case 'nonNegativeInt':
      return Number.isSafeInteger(value) && (value as number) >= 0 ? undefined : 'an integer >= 0';
    case 'level':
      return typeof value === 'string' && LEVELS.has(value) ? undefined : `one of ${[...LEVELS].join(', ')}`;
    case 'optionalPath':
      return value === undefined || (typeof value === 'string' && value.length > 0) ? undefined : 'a file path';
    case 'clientAuth':
      return typeof value === 'string' && CLIENT_AUTH.has(value) ? undefined : `one of ${[...CLIENT_AUTH].join(', ')}`;
    case 'origins':
      return Array.isArray(value) && value.every(isOrigin) ? undefined : 'a list of origins as browsers send them, like "https://console.example.com:8443" (no path, no default port)';
    case 'httpUrl':
      return value === undefined || (typeof value === 'string' && /^https?:\/\/[^\s]+$/.test(value) && URL.canParse(value)) ? undefined : 'an http:// or https:// URL';
    case 'trustProxy':
      return normalizeTrustProxy(value) !== undefined ? undefined : 'true, false, or a comma-separated list of proxy addresses or CIDR ranges (loopback, linklocal and uniquelocal name the usual ones; hop counts are not accepted)';
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
    else config[key] = kind === 'trustProxy' ? normalizeTrustProxy(entry.value) : entry.value;
  }
  if (errors.length === 0) errors.push(...tlsSettingProblems(config as unknown as HubConfig, settings));
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
