/** @sitehub/hub: the sitehub server. Each layer's index is its public API. */
export * from './engine/index.js';
export * from './realtime/index.js';
export { createHub, HUB_VERSION } from './hub.js';
export type { Hub, CreateHubOptions } from './hub.js';
export type { HubConfig, TlsClientAuth } from './config/index.js';
export * from './cluster/index.js';
