// Reads the `sitehub` command's configuration from its three sources, in
// increasing precedence: a JSON file, environment variables, command-line flags.
import { readFileSync } from 'node:fs';
import { CONFIG_KINDS, type HubConfig } from './schema.js';
import { ConfigError, validateConfig, type SourcedValue } from './validate.js';

type Key = keyof HubConfig;

/** `portNumber` -> `SITEHUB_PORT_NUMBER`. */
function envName(key: string): string {
  return 'SITEHUB_' + key.replace(/[A-Z]/g, (c) => '_' + c).toUpperCase();
}

/** `maxMessageBytes` -> `max-message-bytes`. */
function flagName(key: string): string {
  return key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
}

/** Turns an env/flag string into the value its kind wants; numbers stay strings when unparsable so validation names them. */
function parseText(key: Key, text: string): unknown {
  const kind = CONFIG_KINDS[key];
  if (kind === 'port' || kind === 'positiveInt' || kind === 'nonNegativeInt') {
    return /^\s*-?\d+\s*$/.test(text) ? Number(text) : text;
  }
  if (kind === 'boolean') return text === 'true' ? true : text === 'false' ? false : text;
  if (kind === 'origins') return text.split(',').map((s) => s.trim()).filter(Boolean);
  return text;
}

/** What the command line asked for besides settings. */
export interface CommandLine {
  help: boolean;
  configFile: string | undefined;
  settings: Partial<Record<Key, SourcedValue>>;
}

/** Parses `--key value` / `--key=value` flags named after the settings (kebab-case). */
export function parseFlags(argv: readonly string[]): CommandLine {
  const byFlag = new Map<string, Key>();
  for (const key of Object.keys(CONFIG_KINDS) as Key[]) byFlag.set(flagName(key), key);
  const out: CommandLine = { help: false, configFile: undefined, settings: {} };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '-h' || arg === '--help') {
      out.help = true;
      continue;
    }
    if (!arg.startsWith('--')) throw new ConfigError(`unexpected argument "${arg}" (see --help)`);
    const eq = arg.indexOf('=');
    const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    let value: string | undefined = eq === -1 ? undefined : arg.slice(eq + 1);
    if (value === undefined) {
      value = argv[++i];
      if (value === undefined) throw new ConfigError(`flag --${name} needs a value`);
    }
    if (name === 'config') {
      out.configFile = value;
      continue;
    }
    const key = byFlag.get(name);
    if (!key) throw new ConfigError(`unknown flag --${name} (see --help)`);
    out.settings[key] = { value: parseText(key, value), source: `flag --${name}` };
  }
  return out;
}

/** Settings found in the environment (`SITEHUB_<SETTING>`, plus `PORT` and `HOST` as conventions). */
export function readEnv(env: NodeJS.ProcessEnv): Partial<Record<Key, SourcedValue>> {
  const out: Partial<Record<Key, SourcedValue>> = {};
  for (const alias of ['PORT', 'HOST'] as const) {
    const text = env[alias];
    if (text !== undefined && text !== '') {
      const key = alias.toLowerCase() as Key;
      out[key] = { value: parseText(key, text), source: `environment ${alias}` };
    }
  }
  for (const key of Object.keys(CONFIG_KINDS) as Key[]) {
    const name = envName(key);
    const text = env[name];
    if (text !== undefined && text !== '') out[key] = { value: parseText(key, text), source: `environment ${name}` };
  }
  return out;
}

/** Settings from a JSON config file whose keys are the setting names. */
export function readConfigFile(path: string): Partial<Record<string, SourcedValue>> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ConfigError(`cannot read config file ${path}: ${(err as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError(`config file ${path} must hold a JSON object`);
  }
  const out: Partial<Record<string, SourcedValue>> = {};
  for (const [key, value] of Object.entries(parsed)) out[key] = { value, source: `config file ${path}` };
  return out;
}

/** The command's configuration: file < environment < flags, validated. */
export function loadConfig(argv: readonly string[], env: NodeJS.ProcessEnv): { config: HubConfig; help: boolean } {
  const flags = parseFlags(argv);
  const file = flags.configFile ?? env.SITEHUB_CONFIG;
  const settings = { ...(file ? readConfigFile(file) : {}), ...readEnv(env), ...flags.settings };
  return { config: validateConfig(settings), help: flags.help };
}

/** The --help text, listing every setting with its flag, variable and default. */
export function usage(defaults: HubConfig): string {
  const lines = [
    'usage: sitehub [--config file.json] [--<setting> value ...]',
    '',
    'Settings (flag / environment variable / default); a JSON config file uses the setting names as keys.',
  ];
  for (const key of Object.keys(CONFIG_KINDS) as Key[]) {
    const shown = defaults[key] === undefined ? '(unset)' : JSON.stringify(defaults[key]);
    lines.push(`  --${flagName(key).padEnd(24)} ${envName(key).padEnd(32)} ${shown}`);
  }
  return lines.join('\n');
}
