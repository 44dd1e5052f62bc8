// Types shared by the realtime layer's modules and by replacement adapters.
import type { IncomingHttpHeaders } from 'node:http';

/** A room name; every socket also sits in the room named after its own id. */
export type Room = string;
/** A Socket.IO socket id (never the Engine.IO session id). */
export type SocketId = string;
/** The private id a client presents to recover its session. */
export type PrivateSessionId = string;

/** Modifiers of a broadcast, set by the broadcast operator. */
export interface BroadcastFlags {
  /** Drop the packet for recipients whose transport is not writable right now. */
  volatile?: boolean;
  /** Ask the transport to compress (per-message deflate / HTTP compression). */
  compress?: boolean;
  /** Only this process (meaningful for cluster adapters). */
  local?: boolean;
  /** Milliseconds to wait for the acknowledgements of a broadcast with ack. */
  timeout?: number;
  /** Set by RemoteSocket: the ack callback gets one reply, not an array. */
  expectSingleResponse?: boolean;
}

/** Who a broadcast reaches: sockets in any of `rooms` (all when empty), minus those in any of `except`. */
export interface BroadcastOptions {
  rooms: Set<Room>;
  except?: Set<Room>;
  flags?: BroadcastFlags;
}

/** The details of the HTTP request that opened the connection, plus the CONNECT payload. */
export interface Handshake {
  headers: IncomingHttpHeaders;
  time: string;
  address: string;
  xdomain: boolean;
  secure: boolean;
  issued: number;
  url: string;
  query: Record<string, string | string[]>;
  auth: Record<string, any>;
}

/** Why a socket left its namespace; the first six come from the Engine.IO session. */
export type DisconnectReason =
  | 'transport error'
  | 'transport close'
  | 'forced close'
  | 'ping timeout'
  | 'parse error'
  | 'server shutting down'
  | 'forced server close'
  | 'client namespace disconnect'
  | 'server namespace disconnect'
  // The engine may add its own reasons (backpressure); they are passed through.
  | (string & {});

/** An error a middleware passes to `next()`; `message` and `data` reach the client in connect_error. */
export interface ExtendedError extends Error {
  data?: any;
}

/** One encoded Socket.IO packet: the text header, then its binary attachments. */
export type EncodedPacket = Array<string | Uint8Array>;

/** What a disconnected socket leaves behind so that it can be recovered. */
export interface SessionToPersist {
  sid: SocketId;
  pid: PrivateSessionId;
  rooms: Room[];
  data: unknown;
}

/** A recovered session: the persisted state plus the packets the client missed, already encoded. */
export interface Session extends SessionToPersist {
  missedPackets: EncodedPacket[];
}

/** Options of `connectionStateRecovery`. */
export interface ConnectionStateRecoveryOptions {
  /** How long a disconnected session can be recovered, in ms (default 120000). */
  maxDisconnectionDuration?: number;
  /** Skip the namespace middlewares for a recovered socket (default true). */
  skipMiddlewares?: boolean;
  /** Packets kept per namespace for replay (default 10000); older ones cannot be replayed. */
  maxStoredPackets?: number;
  /** Disconnected sessions kept per namespace (default 100000); the oldest go first. */
  maxStoredSessions?: number;
}
