// The two parts of ws that @types/ws does not declare and that the broadcast
// fast path needs: `Sender.frame` (build an unmasked frame once) and the
// socket's `_sender.sendFrame` (write an already built frame). Both are used
// by socket.io for the same purpose; everything here degrades to `undefined`
// so callers fall back to the public `ws.send` if a ws release changes them.
import * as wsModule from 'ws';
import type { WebSocket } from 'ws';

interface FrameOptions {
  fin: boolean;
  rsv1: boolean;
  opcode: number;
  mask: boolean;
  readOnly: boolean;
}

interface SenderStatic {
  frame(data: Buffer, options: FrameOptions): Buffer[];
}

/** A ws sender's raw write: the frame list goes to the socket as is. */
export interface RawFrameSender {
  sendFrame(list: Buffer[], cb?: (err?: Error | null) => void): void;
}

const Sender = (wsModule as unknown as { Sender?: SenderStatic }).Sender;

/** Opcodes of the data frames we send. */
export const TEXT_OPCODE = 1;
export const BINARY_OPCODE = 2;

/**
 * Builds a complete, final, unmasked, uncompressed frame around `payload`.
 * `readOnly` tells ws never to mask in place, so the same buffers can be
 * written to any number of sockets.
 */
export function buildFrame(payload: Buffer, opcode: number): Buffer[] | undefined {
  if (typeof Sender?.frame !== 'function') return undefined;
  return Sender.frame(payload, { fin: true, rsv1: false, opcode, mask: false, readOnly: true });
}

/** The socket's sender if it exposes `sendFrame`, else undefined. */
export function rawSenderOf(ws: WebSocket): RawFrameSender | undefined {
  const sender = (ws as unknown as { _sender?: Partial<RawFrameSender> })._sender;
  return typeof sender?.sendFrame === 'function' ? (sender as RawFrameSender) : undefined;
}

/** The parts of the socket under a ws connection that the transport uses. */
export interface RawSocket {
  cork(): void;
  uncork(): void;
  write(data: Buffer, cb: () => void): boolean;
  readonly writable: boolean;
}

/** The socket under a ws connection, for cork/uncork around several frames; undefined if ws hides it. */
export function rawSocketOf(ws: WebSocket): RawSocket | undefined {
  const socket = (ws as unknown as { _socket?: Partial<RawSocket> })._socket;
  return typeof socket?.cork === 'function' && typeof socket.uncork === 'function' && typeof socket.write === 'function'
    ? (socket as RawSocket)
    : undefined;
}
