// What a session and its transports say to each other. A transport moves
// packets; the session decides what they mean. The session is the transport's
// `sink`, which is swapped when an upgrade hands the transport over.
import type { EnginePacket, EnginePacketTypeName } from '@sitehub/protocol';
import type { PreparedMessage } from './prepared.js';
import type { TransportName } from './options.js';
import type { TransportEvents } from './transport-events.js';

/** Why a session closed (the first argument of the socket's `close` event). */
export type CloseReason =
  | 'transport close'
  | 'transport error'
  | 'ping timeout'
  | 'parse error'
  | 'forced close'
  | 'server shutting down'
  | 'transport buffer full';

/** A packet waiting to be written to a client. */
export interface OutboundPacket {
  type: EnginePacketTypeName;
  data?: string | Uint8Array;
  /** Set for `sendPrepared`: the shared encodings to use instead of encoding `data`. */
  prepared?: PreparedMessage;
  compress: boolean;
  /** Called once the packet was handed to the network; never if it will not be (engine.io's contract). */
  callback?: (err?: Error) => void;
}

/** How a transport ends when its session is done with it. */
export type TransportShutdown =
  /** Tell the client: a pending poll gets `1`, a WebSocket a close frame. */
  | 'close'
  /** End a pending poll with `6` (client-initiated close, or an upgrade took over). */
  | 'noop'
  /** Drop the connection without a word (slow consumer). */
  | 'terminate';

/** The session side of a transport. */
export interface TransportSink {
  /** A packet arrived. Returns false if it broke the protocol (the session is closed by then). */
  onPacket(packet: EnginePacket): boolean;
  /** The transport can take packets now (a poll arrived). */
  onWritable(): void;
  /** The transport failed or saw bad input; `badInput` names the kind to count. */
  onTransportError(reason: CloseReason, description: string, badInput?: string): void;
  /** The client went away cleanly. */
  onTransportClose(): void;
}

/**
 * A transport, as the session sees it. Its events, as engine.io's: `close`
 * once the session is done with it (or its connection closed), `error`
 * (a TransportError) when it fails, and on polling `headers` (headers, req)
 * before each response is written, with the headers object a listener may
 * change.
 */
export interface Transport extends TransportEvents {
  readonly name: TransportName;
  /** Whether `send` would write right now. */
  readonly writable: boolean;
  sink: TransportSink;
  /** Writes packets; only called while `writable`. */
  send(packets: OutboundPacket[]): void;
  /** Bytes written but not yet handed to the kernel. */
  readonly bufferedBytes: number;
  /** Ends the transport; further packets are ignored. `code` is the WebSocket close code. */
  shutdown(how: TransportShutdown, code?: number): void;
}

/** A sink for a transport not (or no longer) attached to a session. */
export const DETACHED_SINK: TransportSink = {
  onPacket: () => true,
  onWritable: () => {},
  onTransportError: () => {},
  onTransportClose: () => {},
};

/**
 * Settles every packet callback once: called when the packets were written,
 * dropped unheard when they never will be (`err`), as engine.io does.
 */
export function settleCallbacks(packets: readonly OutboundPacket[], err?: Error): void {
  for (const packet of packets) {
    const cb = packet.callback;
    if (cb) {
      packet.callback = undefined;
      if (err === undefined) cb();
    }
  }
}

/** Approximate byte size of a packet, for write-buffer accounting. */
export function packetSize(packet: OutboundPacket): number {
  if (packet.prepared) return packet.prepared.byteLength;
  const data = packet.data;
  if (typeof data === 'string') return data.length + 1;
  // Anything else a caller passed (a number, null) is written as text.
  return data instanceof Uint8Array ? data.byteLength : String(data ?? '').length + 1;
}
