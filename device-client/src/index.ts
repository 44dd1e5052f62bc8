/** @sitehub/device-client: the Socket.IO client, and the edge agent for Node. */
export * from './client/index.js';
export { Agent, AGENT_VERSION, AGENT_COMMANDS, type AgentOptions } from './agent.js';
export { Outbox, type OutboxOptions, type Reading, type ReadingValue, type DropCounts, type DropReason } from './outbox.js';
export { loadConfig, validateConfig, ConfigError, type AgentConfig, type SourceConfig } from './config.js';
export { privateDatabaseFile } from './private-file.js';
export { uploadFile, type UploadOptions } from './files/uploader.js';
export { FileReceiver, type ReceiverOptions } from './files/receiver.js';
