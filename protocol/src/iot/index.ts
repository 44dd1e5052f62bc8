/**
 * @sitehub/protocol/iot: the device contract in one place, with no
 * dependencies: id and name patterns, the default limits, refusal and error
 * codes, payload types and the event maps. The hub, the agent, the bridge and
 * the console import it; nothing of it is written twice.
 */
export * from './patterns.js';
export * from './limits.js';
export * from './codes.js';
export * from './payloads.js';
export * from './twins.js';
export * from './files.js';
