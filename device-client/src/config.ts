// The agent's configuration: a JSON file, validated as a whole at start so
// that every mistake is reported at once with its path in the file.
import { readFileSync } from 'node:fs';
import { CLASS_PATTERN, DEFAULT_LIMITS, NAME_PATTERN } from '@sitehub/protocol/iot';
import { dirname, resolve } from 'node:path';
import { PARSER_NAMES, type ParserSpec } from './serial/parsers/index.js';

/** How to find a port when its path is not stable (USB adapters). */
export interface PortMatch {
  vendorId?: string;
  productId?: string;
  serialNumber?: string;
}

/** One serial source: where, how fast, how to parse, how to name the values. */
export interface SourceConfig {
  /** Name used in logs, state and the `serial-write` command. */
  name: string;
  path?: string;
  match?: PortMatch;
  baudRate: number;
  dataBits: 5 | 6 | 7 | 8;
  stopBits: 1 | 1.5 | 2;
  parity: 'none' | 'even' | 'odd' | 'mark' | 'space';
  parser: ParserSpec;
  /** Parsed field -> metric name; when given, other fields are left out. */
  map?: Record<string, string>;
  /** Prefix for metric names (after the map), e.g. `gps.` */
  prefix?: string;
  /** Reopen the port after this long without data, ms (0: never; default 60000). */
  watchdogMs: number;
  /** Keep at most one reading per this many ms (0: keep all). */
  sampleIntervalMs: number;
  /** First and longest delay between reopen attempts, ms. */
  reopenDelayMs: number;
  reopenDelayMaxMs: number;
}

/** Synthetic sensors for `--simulate`. */
export interface SimulateConfig {
  /** Readings per tick (one per synthetic sensor). */
  sensors: number;
  /** Ms between ticks; 0 generates as fast as the outbox takes them. */
  intervalMs: number;
  /** Stop once the device's seq reaches this (0: never). */
  total: number;
}

/** PEM files for a TLS hub: `ca` to trust its certificate, `cert` and `key` for client-certificate (mTLS) hubs. Absolute paths. */
export interface HubTlsFiles {
  ca?: string;
  cert?: string;
  key?: string;
}

/** The whole agent configuration with defaults applied. */
export interface AgentConfig {
  hub: { url: string; deviceId: string; token: string; class: string; transports: Array<'websocket' | 'polling'>; tls: HubTlsFiles };
  sources: SourceConfig[];
  simulate?: SimulateConfig;
  batch: { size: number; intervalMs: number; maxInFlight: number; ackTimeoutMs: number };
  outbox: { path: string; maxReadings: number; maxAgeMs: number; replayRatePerSec: number; pruneIntervalMs: number };
  reconnect: { delayMs: number; delayMaxMs: number };
  logLevel: string;
  /** Files from the hub (absent: offers are refused). */
  files?: { dir: string; maxBytes: number; windowChunks: number; hook?: string; hookTimeoutMs: number; uploadDir?: string };
}

/** A configuration that failed validation; `problems` lists every mistake. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

type Json = Record<string, unknown>;

class Checker {
  problems: string[] = [];
  isObject(v: unknown): v is Json {
    return v !== null && typeof v === 'object' && !Array.isArray(v);
  }
  obj(parent: Json, key: string, path: string, required = false): Json {
    const v = parent[key];
    if (v === undefined) {
      if (required) this.problems.push(`${path}${key}: required`);
      return {};
    }
    if (!this.isObject(v)) {
      this.problems.push(`${path}${key}: must be an object`);
      return {};
    }
    return v;
  }
  str(o: Json, key: string, path: string, opts: { required?: boolean; pattern?: RegExp; def?: string } = {}): string {
    const v = o[key];
    if (v === undefined) {
      if (opts.required) this.problems.push(`${path}${key}: required`);
      return opts.def ?? '';
    }
    if (typeof v !== 'string' || v === '') {
      this.problems.push(`${path}${key}: must be a non-empty string`);
      return opts.def ?? '';
    }
    if (opts.pattern && !opts.pattern.test(v)) this.problems.push(`${path}${key}: must match ${opts.pattern}`);
    return v;
  }
  int(o: Json, key: string, path: string, def: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
    const v = o[key];
    if (v === undefined) return def;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      this.problems.push(`${path}${key}: must be an integer from ${min} to ${max}`);
      return def;
    }
    return v;
  }
  oneOf<T>(o: Json, key: string, path: string, allowed: readonly T[], def: T): T {
    const v = o[key];
    if (v === undefined) return def;
    if (!allowed.includes(v as T)) {
      this.problems.push(`${path}${key}: must be one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`);
      return def;
    }
    return v as T;
  }
  unknownKeys(o: Json, allowed: string[], path: string): void {
    for (const key of Object.keys(o)) if (!allowed.includes(key)) this.problems.push(`${path}${key}: unknown setting`);
  }
}

const METRIC = NAME_PATTERN;

/** `hub.tls`: file paths relative to the config file; a certificate needs its key. */
function hubTls(c: Checker, hubRaw: Record<string, unknown>, baseDir: string): HubTlsFiles {
  if (hubRaw.tls === undefined) return {};
  const raw = c.obj(hubRaw, 'tls', 'hub.', false);
  c.unknownKeys(raw, ['ca', 'cert', 'key'], 'hub.tls.');
  const out: HubTlsFiles = {};
  for (const key of ['ca', 'cert', 'key'] as const) {
    const path = raw[key] === undefined ? undefined : c.str(raw, key, 'hub.tls.');
    if (path) out[key] = resolve(baseDir, path);
  }
  if ((out.cert === undefined) !== (out.key === undefined)) c.problems.push('hub.tls: "cert" and "key" go together');
  return out;
}

/** Validates a parsed configuration; relative outbox paths resolve against `baseDir`. */
export function validateConfig(raw: unknown, opts: { simulate?: boolean; baseDir?: string } = {}): AgentConfig {
  const c = new Checker();
  if (!c.isObject(raw)) throw new ConfigError(['the configuration must be a JSON object']);
  c.unknownKeys(raw, ['hub', 'sources', 'simulate', 'batch', 'outbox', 'reconnect', 'logLevel', 'files'], '');
  const hubRaw = c.obj(raw, 'hub', '', true);
  c.unknownKeys(hubRaw, ['url', 'deviceId', 'token', 'class', 'transports', 'tls'], 'hub.');
  const url = c.str(hubRaw, 'url', 'hub.', { required: true, pattern: /^(https?|wss?):\/\/[^\s]+$/ });
  const transportsRaw = hubRaw.transports ?? ['websocket'];
  const transports = Array.isArray(transportsRaw) && transportsRaw.length > 0 && transportsRaw.every((t) => t === 'websocket' || t === 'polling') ? (transportsRaw as Array<'websocket' | 'polling'>) : (c.problems.push('hub.transports: must be a non-empty array of "websocket", "polling"'), ['websocket' as const]);
  const hub = {
    url,
    deviceId: c.str(hubRaw, 'deviceId', 'hub.', { required: true }),
    token: c.str(hubRaw, 'token', 'hub.', { required: true }),
    class: c.str(hubRaw, 'class', 'hub.', { required: true, pattern: CLASS_PATTERN }),
    transports,
    tls: hubTls(c, hubRaw, opts.baseDir ?? process.cwd()),
  };

  const sources: SourceConfig[] = [];
  const sourcesRaw = raw.sources ?? [];
  if (!Array.isArray(sourcesRaw)) c.problems.push('sources: must be an array');
  else
    sourcesRaw.forEach((s, i) => {
      const p = `sources[${i}].`;
      if (!c.isObject(s)) return void c.problems.push(`sources[${i}]: must be an object`);
      c.unknownKeys(s, ['name', 'path', 'match', 'baudRate', 'dataBits', 'stopBits', 'parity', 'parser', 'map', 'prefix', 'watchdogMs', 'sampleIntervalMs', 'reopenDelayMs', 'reopenDelayMaxMs'], p);
      const path = s.path === undefined ? undefined : c.str(s, 'path', p);
      let match: PortMatch | undefined;
      if (s.match !== undefined) {
        const m = c.obj(s, 'match', p);
        c.unknownKeys(m, ['vendorId', 'productId', 'serialNumber'], `${p}match.`);
        match = {};
        for (const k of ['vendorId', 'productId', 'serialNumber'] as const) if (m[k] !== undefined) match[k] = c.str(m, k, `${p}match.`);
        if (Object.keys(match).length === 0) c.problems.push(`${p}match: needs vendorId, productId or serialNumber`);
      }
      if ((path === undefined) === (match === undefined)) c.problems.push(`${p}: give exactly one of path or match`);
      const parserRaw = c.obj(s, 'parser', p, true);
      c.unknownKeys(parserRaw, ['type', 'maxLineBytes', 'columns', 'separator'], `${p}parser.`);
      const parser: ParserSpec = {
        type: c.oneOf(parserRaw, 'type', `${p}parser.`, PARSER_NAMES, 'json-lines'),
        maxLineBytes: c.int(parserRaw, 'maxLineBytes', `${p}parser.`, 4096, 16, 1 << 20),
      };
      if (parserRaw.type === undefined) c.problems.push(`${p}parser.type: required (${PARSER_NAMES.join(', ')})`);
      if (parserRaw.columns !== undefined) {
        if (Array.isArray(parserRaw.columns) && parserRaw.columns.length > 0 && parserRaw.columns.every((x) => typeof x === 'string' && x !== '')) parser.columns = parserRaw.columns as string[];
        else c.problems.push(`${p}parser.columns: must be a non-empty array of names`);
      }
      if (parserRaw.separator !== undefined) parser.separator = c.str(parserRaw, 'separator', `${p}parser.`);
      let map: Record<string, string> | undefined;
      if (s.map !== undefined) {
        const m = c.obj(s, 'map', p);
        map = {};
        for (const [field, metric] of Object.entries(m)) {
          if (typeof metric !== 'string' || !METRIC.test(metric)) c.problems.push(`${p}map.${field}: must be a metric name matching ${METRIC}`);
          else map[field] = metric;
        }
      }
      sources.push({
        name: c.str(s, 'name', p, { def: `source${i}`, pattern: /^[A-Za-z0-9_.-]{1,64}$/ }),
        path,
        match,
        baudRate: c.int(s, 'baudRate', p, 9600, 50, 4_000_000),
        dataBits: c.oneOf(s, 'dataBits', p, [5, 6, 7, 8] as const, 8),
        stopBits: c.oneOf(s, 'stopBits', p, [1, 1.5, 2] as const, 1),
        parity: c.oneOf(s, 'parity', p, ['none', 'even', 'odd', 'mark', 'space'] as const, 'none'),
        parser,
        map,
        prefix: s.prefix === undefined ? undefined : c.str(s, 'prefix', p, { pattern: /^[A-Za-z0-9_.:-]{1,32}$/ }),
        watchdogMs: c.int(s, 'watchdogMs', p, 60_000, 0),
        sampleIntervalMs: c.int(s, 'sampleIntervalMs', p, 0, 0),
        reopenDelayMs: c.int(s, 'reopenDelayMs', p, 500, 10),
        reopenDelayMaxMs: c.int(s, 'reopenDelayMaxMs', p, 30_000, 10),
      });
    });
  const names = sources.map((s) => s.name);
  for (const name of new Set(names)) if (names.filter((n) => n === name).length > 1) c.problems.push(`sources: name "${name}" used twice`);

  let simulate: SimulateConfig | undefined;
  if (opts.simulate || raw.simulate !== undefined) {
    const s = c.obj(raw, 'simulate', '');
    c.unknownKeys(s, ['sensors', 'intervalMs', 'total'], 'simulate.');
    simulate = { sensors: c.int(s, 'sensors', 'simulate.', 3, 1, 1000), intervalMs: c.int(s, 'intervalMs', 'simulate.', 1000, 0), total: c.int(s, 'total', 'simulate.', 0, 0) };
  }
  if (sources.length === 0 && !simulate) c.problems.push('sources: at least one serial source is needed (or a simulate section, or --simulate)');

  const b = c.obj(raw, 'batch', '');
  c.unknownKeys(b, ['size', 'intervalMs', 'maxInFlight', 'ackTimeoutMs'], 'batch.');
  const batch = {
    // The hub's limit is told on connect and followed; the hub default bounds what is configurable.
    size: c.int(b, 'size', 'batch.', 100, 1, DEFAULT_LIMITS.maxReadingsPerBatch),
    intervalMs: c.int(b, 'intervalMs', 'batch.', 1000, 10),
    maxInFlight: c.int(b, 'maxInFlight', 'batch.', 4, 1, 64),
    ackTimeoutMs: c.int(b, 'ackTimeoutMs', 'batch.', 10_000, 100),
  };
  const o = c.obj(raw, 'outbox', '');
  c.unknownKeys(o, ['path', 'maxReadings', 'maxAgeMs', 'replayRatePerSec', 'pruneIntervalMs'], 'outbox.');
  const outbox = {
    path: resolve(opts.baseDir ?? process.cwd(), c.str(o, 'path', 'outbox.', { def: './sitehub-outbox.db' })),
    maxReadings: c.int(o, 'maxReadings', 'outbox.', 1_000_000, 1),
    maxAgeMs: c.int(o, 'maxAgeMs', 'outbox.', 7 * 24 * 3600_000, 1000),
    replayRatePerSec: c.int(o, 'replayRatePerSec', 'outbox.', 5000, 1),
    pruneIntervalMs: c.int(o, 'pruneIntervalMs', 'outbox.', 60_000, 100),
  };
  const r = c.obj(raw, 'reconnect', '');
  c.unknownKeys(r, ['delayMs', 'delayMaxMs'], 'reconnect.');
  const reconnect = { delayMs: c.int(r, 'delayMs', 'reconnect.', 1000, 10), delayMaxMs: c.int(r, 'delayMaxMs', 'reconnect.', 30_000, 10) };
  const logLevel = c.oneOf(raw, 'logLevel', '', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, 'info');
  let files: AgentConfig['files'];
  if (raw.files !== undefined) {
    const f = c.obj(raw, 'files', '');
    c.unknownKeys(f, ['dir', 'maxBytes', 'windowChunks', 'hook', 'hookTimeoutMs', 'uploadDir'], 'files.');
    const base = opts.baseDir ?? process.cwd();
    const hook = f.hook === undefined ? undefined : resolve(base, c.str(f, 'hook', 'files.'));
    const uploadDir = f.uploadDir === undefined ? undefined : resolve(base, c.str(f, 'uploadDir', 'files.'));
    files = {
      dir: resolve(base, c.str(f, 'dir', 'files.', { required: true })),
      maxBytes: c.int(f, 'maxBytes', 'files.', 256 * 1024 * 1024, 1),
      // The window bounds the agent's memory during a transfer: window x chunk size (256 KiB from the hub by default).
      windowChunks: c.int(f, 'windowChunks', 'files.', 4, 1, 64),
      ...(hook !== undefined && { hook }),
      ...(uploadDir !== undefined && { uploadDir }),
      hookTimeoutMs: c.int(f, 'hookTimeoutMs', 'files.', 60_000, 100),
    };
  }
  if (c.problems.length) throw new ConfigError(c.problems);
  return { hub, sources, simulate, batch, outbox, reconnect, logLevel, ...(files && { files }) };
}

/** Reads and validates a JSON configuration file. */
export function loadConfig(file: string, opts: { simulate?: boolean } = {}): AgentConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError([`${file}: cannot read (${(err as Error).message})`]);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ConfigError([`${file}: not valid JSON (${(err as Error).message})`]);
  }
  return validateConfig(raw, { ...opts, baseDir: dirname(resolve(file)) });
}
