// The option and event types of a Socket.
import type { TimerOptions } from './lifecycle-timers.js';

/** Socket options, with socket.io-client's names plus sitehub's own. */
export interface SocketOptions {
  /** CONNECT payload, or a function that hands it over (called on every connection). */
  auth: Record<string, unknown> | ((cb: (data: object) => void) => void);
  /** Resend unacknowledged emits up to this many times (at-least-once, in order). Default 0. */
  retries: number;
  /** Default ack timeout in ms for emits with an ack (and for `retries`). */
  ackTimeout: number;
  /**
   * Most packets kept while disconnected (send buffer, and waiting retries).
   * Beyond it the OLDEST waiting packet is dropped, its ack (when it takes an
   * error) gets Error('send buffer overflow'), and `droppedPackets` counts it.
   * 0 drops everything emitted while disconnected. Default 1000.
   */
  maxBufferedPackets: number;
  /** Behaviour of `setTimeout` / `setInterval` / `setLoop`. */
  timers: TimerOptions;
}

/** Why a socket disconnected. */
export type DisconnectReason =
  | 'io server disconnect'
  | 'io client disconnect'
  | 'ping timeout'
  | 'transport close'
  | 'transport error'
  | 'parse error'
  | 'forced close';

/** `connect_error`'s error: `data` is what the server's middleware attached. */
export interface ConnectError extends Error {
  data?: unknown;
}

/** Reserved events of a Socket. */
export interface SocketReservedEvents {
  connect: () => void;
  connect_error: (err: ConnectError) => void;
  disconnect: (reason: DisconnectReason, description?: unknown) => void;
}

/** Flags set by `volatile`, `timeout()` and `compress()` for the next emit. */
export interface EmitFlags {
  compress?: boolean;
  timeout?: number;
  volatile?: boolean;
  fromQueue?: boolean;
}

export const DEFAULT_MAX_BUFFERED_PACKETS = 1000;
