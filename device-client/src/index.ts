/** @sitehub/device-client: the sitehub client. */
export { io, connect, type IoOptions } from './client/io.js';
export { Manager, type ManagerOptions } from './client/manager.js';
export {
  Socket,
  type SocketOptions,
  type DisconnectReason,
  type ConnectError,
  type SocketReservedEvents,
} from './client/socket.js';
export type { LifecycleTimer, LoopOptions, TimerOptions, TimerCallback } from './client/lifecycle-timers.js';
export { EngineSocket } from './client/engine/socket.js';
export type { EngineOptions, TransportName, BinaryType } from './client/engine/options.js';
export { TransportError } from './client/engine/transport.js';
export type { DefaultEventsMap, EventsMap } from './client/typed-events.js';
