// Configuration of the hub: the settings and defaults, and the command's loader.
export { DEFAULT_CONFIG, ConfigError, resolveConfig, validateConfig, type HubConfig, type TlsClientAuth } from './schema.js';
export { loadConfig, usage } from './load.js';
