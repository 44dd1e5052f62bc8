/** @sitehub/hub realtime layer: a socket.io-compatible Socket.IO v5 server. */
export { Server, type ServerOptions, type ParentNspNameMatchFn } from './server.js';
export { Namespace } from './namespace.js';
export { ParentNamespace } from './parent-namespace.js';
export { Socket, type Event } from './socket.js';
export { Client } from './client.js';
export { BroadcastOperator } from './broadcast-operator.js';
export { RemoteSocket } from './remote-socket.js';
export { Adapter, type AdapterConstructor } from './adapter.js';
export type { AdapterNamespace, AdapterSocket, AdapterHealth, FetchedSockets } from './adapter-seam.js';
export type { SocketDetails } from './remote-socket.js';
export { SessionAwareAdapter, RECOVERABLE_DISCONNECT_REASONS } from './recovery.js';
export { RealtimeMetrics } from './metrics.js';
export { setClientBundleHandler, CLIENT_BUNDLE_FILES, type ClientBundleHandler } from './serve-client.js';
export type {
  Room,
  SocketId,
  PrivateSessionId,
  BroadcastFlags,
  BroadcastOptions,
  Handshake,
  DisconnectReason,
  ExtendedError,
  EncodedPacket,
  Session,
  SessionToPersist,
  ConnectionStateRecoveryOptions,
} from './types.js';
