/** @sitehub/hub: the sitehub server. */
export {
  EngineServer,
  EngineSocket,
  PreparedMessage,
  EngineMetrics,
  EngineErrorCode,
  ENGINE_ERROR_MESSAGES,
} from './engine/index.js';
export type {
  ConnectionErrorEvent,
  EngineSocketState,
  SendOptions,
  SendCallback,
  EngineBadInputKind,
  EngineServerOptions,
  HttpCompressionOptions,
  TransportName,
  AttachOptions,
  CorsOptions,
  CookieOptions,
  CloseReason,
  Transport,
  EngineRequest,
} from './engine/index.js';
export {
  Server,
  Namespace,
  ParentNamespace,
  Socket,
  Client,
  BroadcastOperator,
  RemoteSocket,
  Adapter,
  SessionAwareAdapter,
  RealtimeMetrics,
  RECOVERABLE_DISCONNECT_REASONS,
  setClientBundleHandler,
  CLIENT_BUNDLE_FILES,
} from './realtime/index.js';
export type {
  ServerOptions,
  ParentNspNameMatchFn,
  Event,
  AdapterConstructor,
  ClientBundleHandler,
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
} from './realtime/index.js';
export { createHub, HUB_VERSION } from './hub.js';
export type { Hub, CreateHubOptions } from './hub.js';
export type { HubConfig } from './config/index.js';
