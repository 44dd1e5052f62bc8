// Bridge settings: defaults, then a JSON file, then SITEHUB_BRIDGE_* variables,
// then --flags. Every setting is checked; errors name the setting and its source.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

/** Everything the bridge can be told. */
export interface BridgeConfig {
  /** Name of this bridge: client id suffix, origin marker, `sitehub/bridge/{id}/status`. */
  bridgeId: string;
  /** Hub base URL. */
  hubUrl: string;
  /** Bridge token (POST /api/bridge-tokens). */
  hubToken: string;
  /** Hub subscription filter (docs/api.md), JSON. */
  hubFilter: Record<string, unknown>;
  /** PEM files for a TLS hub: the CA of its certificate (private CA or self-signed), and a client certificate and key for a hub with tlsClientAuth "required". */
  hubCaFile: string | undefined;
  hubCertFile: string | undefined;
  hubKeyFile: string | undefined;
  /** Broker URL: mqtt://, mqtts://, ws://, wss://. */
  mqttUrl: string;
  mqttUsername: string | undefined;
  mqttPassword: string | undefined;
  /** PEM files for TLS: CA, client certificate and key. */
  mqttCaFile: string | undefined;
  mqttCertFile: string | undefined;
  mqttKeyFile: string | undefined;
  mqttRejectUnauthorized: boolean;
  /** 5 (MQTT 5) or 4 (MQTT 3.1.1). */
  mqttProtocolVersion: 4 | 5;
  /** Client id; defaults to `sitehub-bridge-<bridgeId>` (stable, so a restart takes its session back). */
  mqttClientId: string | undefined;
  mqttKeepaliveSec: number;
  /** MQTT 5 session expiry interval. */
  mqttSessionExpirySec: number;
  /** MQTT 5 will delay interval: a reconnect within it cancels the `offline` will. */
  mqttWillDelaySec: number;
  mqttReconnectMs: number;
  /** On stop, how long to wait for the broker to acknowledge the retained `offline` (then the will says it). */
  mqttCloseTimeoutMs: number;
  /** Topic template; placeholders {site} {class} {device} {kind}. */
  topicTemplate: string;
  /** First level of the bridge's own status topic. */
  topicPrefix: string;
  qosTelemetry: 0 | 1 | 2;
  qosState: 0 | 1 | 2;
  qosEvent: 0 | 1 | 2;
  qosStatus: 0 | 1 | 2;
  qosResult: 0 | 1 | 2;
  /** Carry commands published on `.../cmd/{name}` to the hub. */
  commands: boolean;
  /** How long an MQTT command waits for the device's answer. */
  commandTimeoutMs: number;
  /** SQLite file of the outgoing queue. */
  queueFile: string;
  /** Most messages waiting for the broker; the oldest are dropped past it. */
  queueMaxMessages: number;
  /** Most messages published and not yet acknowledged by the broker. */
  inflightWindow: number;
  /** How many recent (device, seq) and request keys are remembered to drop duplicates. */
  dedupWindow: number;
  hubReconnectDelayMaxMs: number;
  /** How often the bridge tells the hub the stream position the broker has acknowledged. */
  confirmIntervalMs: number;
  /** Port of the /healthz server; unset = off, 0 = any free port. */
  healthPort: number | undefined;
  healthHost: string;
  logLevel: string;
}

type Kind = 'string' | 'optString' | 'int' | 'optInt' | 'bool' | 'qos' | 'json' | 'version';

const SCHEMA: Record<keyof BridgeConfig, Kind> = {
  bridgeId: 'string',
  hubUrl: 'string',
  hubToken: 'string',
  hubFilter: 'json',
  hubCaFile: 'optString',
  hubCertFile: 'optString',
  hubKeyFile: 'optString',
  mqttUrl: 'string',
  mqttUsername: 'optString',
  mqttPassword: 'optString',
  mqttCaFile: 'optString',
  mqttCertFile: 'optString',
  mqttKeyFile: 'optString',
  mqttRejectUnauthorized: 'bool',
  mqttProtocolVersion: 'version',
  mqttClientId: 'optString',
  mqttKeepaliveSec: 'int',
  mqttSessionExpirySec: 'int',
  mqttWillDelaySec: 'int',
  mqttReconnectMs: 'int',
  mqttCloseTimeoutMs: 'int',
  topicTemplate: 'string',
  topicPrefix: 'string',
  qosTelemetry: 'qos',
  qosState: 'qos',
  qosEvent: 'qos',
  qosStatus: 'qos',
  qosResult: 'qos',
  commands: 'bool',
  commandTimeoutMs: 'int',
  queueFile: 'string',
  queueMaxMessages: 'int',
  inflightWindow: 'int',
  dedupWindow: 'int',
  hubReconnectDelayMaxMs: 'int',
  confirmIntervalMs: 'int',
  healthPort: 'optInt',
  healthHost: 'string',
  logLevel: 'string',
};

/** The defaults (hubToken has none: it must be given). */
export function defaultConfig(): BridgeConfig {
  return {
    bridgeId: hostname().replace(/[^A-Za-z0-9_.-]/g, '-') || 'bridge',
    hubUrl: 'http://127.0.0.1:3000',
    hubToken: '',
    hubFilter: {},
    mqttUrl: 'mqtt://127.0.0.1:1883',
    mqttUsername: undefined,
    mqttPassword: undefined,
    hubCaFile: undefined,
    hubCertFile: undefined,
    hubKeyFile: undefined,
    mqttCaFile: undefined,
    mqttCertFile: undefined,
    mqttKeyFile: undefined,
    mqttRejectUnauthorized: true,
    mqttProtocolVersion: 5,
    mqttClientId: undefined,
    mqttKeepaliveSec: 30,
    mqttSessionExpirySec: 86_400,
    mqttWillDelaySec: 5,
    mqttReconnectMs: 1000,
    mqttCloseTimeoutMs: 3000,
    topicTemplate: 'sitehub/{site}/{class}/{device}/{kind}',
    topicPrefix: 'sitehub',
    qosTelemetry: 1,
    qosState: 1,
    qosEvent: 1,
    qosStatus: 1,
    qosResult: 1,
    commands: true,
    commandTimeoutMs: 30_000,
    queueFile: './sitehub-bridge-queue.db',
    queueMaxMessages: 1_000_000,
    inflightWindow: 200,
    dedupWindow: 100_000,
    hubReconnectDelayMaxMs: 5000,
    confirmIntervalMs: 1000,
    healthPort: undefined,
    healthHost: '127.0.0.1',
    logLevel: 'info',
  };
}

const kebab = (name: string) => name.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
const envName = (name: string) => 'SITEHUB_BRIDGE_' + name.replace(/[A-Z]/g, (c) => '_' + c).toUpperCase();

/** Settings read from the command line, the environment and a file. */
export class ConfigError extends Error {}

function coerce(name: string, kind: Kind, raw: unknown, source: string): unknown {
  const fail = (what: string) => new ConfigError(`${name} (${source}): ${what}, got ${JSON.stringify(raw)}`);
  const text = typeof raw === 'string';
  switch (kind) {
    case 'string':
      if (typeof raw !== 'string' || raw === '') throw fail('expected a non-empty string');
      return raw;
    case 'optString':
      if (raw === undefined || raw === null || raw === '') return undefined;
      if (typeof raw !== 'string') throw fail('expected a string');
      return raw;
    case 'int':
    case 'optInt': {
      if (kind === 'optInt' && (raw === undefined || raw === null || raw === '')) return undefined;
      const n = text ? Number(raw) : raw;
      if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) throw fail('expected a non-negative integer');
      return n;
    }
    case 'bool':
      if (raw === true || raw === 'true' || raw === '1') return true;
      if (raw === false || raw === 'false' || raw === '0') return false;
      throw fail('expected true or false');
    case 'qos': {
      const n = text ? Number(raw) : raw;
      if (n !== 0 && n !== 1 && n !== 2) throw fail('expected 0, 1 or 2');
      return n;
    }
    case 'version': {
      const n = text ? Number(raw) : raw;
      if (n !== 4 && n !== 5) throw fail('expected 4 (MQTT 3.1.1) or 5');
      return n;
    }
    case 'json': {
      let v = raw;
      if (text) {
        try {
          v = JSON.parse(raw as string);
        } catch {
          throw fail('expected JSON');
        }
      }
      if (typeof v !== 'object' || v === null || Array.isArray(v)) throw fail('expected a JSON object');
      return v;
    }
  }
}

/** Builds the configuration from `argv` (without node and script), `env` and the file they name. */
export function loadConfig(argv: string[], env: NodeJS.ProcessEnv = process.env): BridgeConfig {
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) throw new ConfigError(`unexpected argument ${arg}`);
    const eq = arg.indexOf('=');
    if (eq > 0) flags.set(arg.slice(2, eq), arg.slice(eq + 1));
    else {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('--')) flags.set(arg.slice(2), 'true');
      else flags.set(arg.slice(2), (i++, next));
    }
  }
  const config = defaultConfig() as unknown as Record<string, unknown>;
  const known = new Set(Object.keys(SCHEMA).map(kebab));
  for (const f of flags.keys()) if (f !== 'config' && !known.has(f)) throw new ConfigError(`unknown flag --${f}`);
  const file = flags.get('config') ?? env.SITEHUB_BRIDGE_CONFIG;
  const fromFile: Record<string, unknown> = file ? JSON.parse(readFileSync(file, 'utf8')) : {};
  for (const key of Object.keys(fromFile)) if (!(key in SCHEMA)) throw new ConfigError(`unknown setting "${key}" in ${file}`);
  for (const [name, kind] of Object.entries(SCHEMA) as Array<[string, Kind]>) {
    if (name in fromFile) config[name] = coerce(name, kind, fromFile[name], `file ${file}`);
    const e = envName(name);
    if (env[e] !== undefined) config[name] = coerce(name, kind, env[e], `env ${e}`);
    const f = kebab(name);
    if (flags.has(f)) config[name] = coerce(name, kind, flags.get(f), `flag --${f}`);
  }
  if (!config.hubToken) throw new ConfigError(`hubToken is required (--hub-token, ${envName('hubToken')} or the config file)`);
  return config as unknown as BridgeConfig;
}

/** `--help` text: every setting with its flag, variable and default. */
export function helpText(): string {
  const d = defaultConfig() as unknown as Record<string, unknown>;
  const lines = ['sitehub-bridge: mirrors a sitehub hub to an MQTT broker', '', 'usage: sitehub-bridge [--config file.json] [--setting value ...]', ''];
  for (const name of Object.keys(SCHEMA)) lines.push(`  --${kebab(name)}  (${envName(name)})  default: ${JSON.stringify(d[name]) ?? 'unset'}`);
  return lines.join('\n');
}
