/** @sitehub/bridge: mirrors a sitehub hub to an MQTT broker and carries MQTT commands back. */
export { createBridge, type Bridge, type BridgeStatus } from './bridge.js';
export { loadConfig, defaultConfig, helpText, ConfigError, type BridgeConfig } from './config.js';
export { TopicMap, bridgeStatusTopic, type TopicSubject, type CommandTopic, type DeviceKind } from './topics.js';
export { Outbox, type QueuedMessage, type OutboxOptions } from './queue.js';
export { RecentKeys } from './dedup.js';
