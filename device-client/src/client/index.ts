/** @sitehub/device-client's Socket.IO client: browser-safe, no Node-only imports. */
export { io, connect, type IoOptions } from './io.js';
export { Manager, type ManagerOptions } from './manager.js';
export {
  Socket,
  type SocketOptions,
  type DisconnectReason,
  type ConnectError,
  type SocketReservedEvents,
} from './socket.js';
export type { LifecycleTimer, LoopOptions, TimerOptions, TimerCallback } from './lifecycle-timers.js';
export { EngineSocket } from './engine/socket.js';
export type { EngineOptions, TransportName, BinaryType } from './engine/options.js';
export { TransportError } from './engine/transport.js';
export type { DefaultEventsMap, EventsMap } from './typed-events.js';
