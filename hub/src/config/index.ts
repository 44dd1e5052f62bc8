// Configuration of the hub: the settings and defaults, and the command's loader.
export { DEFAULT_CONFIG, type HubConfig, type TlsClientAuth } from './schema.js';
export { ConfigError, resolveConfig, validateConfig } from './validate.js';
export { loadConfig, usage } from './load.js';
