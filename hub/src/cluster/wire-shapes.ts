// Shapes between the adapter and the wire: what a response carries for each
// request type, and how packets, broadcast options and local sockets are
// written out (key order as socket.io writes them, so the bytes match).
import type { Packet } from '@sitehub/protocol';
import type { BroadcastOptions, SocketDetails } from '../realtime/index.js';
import { isObject, isString, isStringArray } from './parse.js';
import { RequestType } from './protocol.js';

/** The payload of a response, checked for its request type; undefined when malformed. */
export function responseValue(type: number, raw: Record<string, unknown>): unknown {
  switch (type) {
    case RequestType.SOCKETS:
      return isStringArray(raw.sockets) ? raw.sockets : undefined;
    case RequestType.ALL_ROOMS:
      return isStringArray(raw.rooms) ? raw.rooms : undefined;
    case RequestType.REMOTE_FETCH:
      return Array.isArray(raw.sockets) && raw.sockets.every(isSocketDetails) ? raw.sockets : undefined;
    case RequestType.SERVER_SIDE_EMIT:
      return raw.data;
    default:
      return undefined;
  }
}

function isSocketDetails(v: unknown): v is SocketDetails<unknown> {
  return isObject(v) && isString(v.id) && isObject(v.handshake) && isStringArray(v.rooms);
}

/** A local socket as a REMOTE_FETCH answer carries it (the handshake without a session store, as the anchor). */
export function details(socket: SocketDetails<unknown>): Record<string, unknown> {
  const { sessionStore: _, ...handshake } = socket.handshake as unknown as Record<string, unknown>;
  return { id: socket.id, handshake, rooms: [...socket.rooms], data: socket.data };
}

export function wirePacket(packet: Packet) {
  // Key order as socket.io builds its packet, so the bytes match the anchor's.
  return { type: packet.type, data: packet.data as unknown[], nsp: packet.nsp };
}

export function wireOptions(opts: BroadcastOptions) {
  return { rooms: [...opts.rooms], except: [...(opts.except ?? [])], flags: opts.flags ?? {} };
}

export function wireTargets(opts: BroadcastOptions) {
  return { rooms: [...opts.rooms], except: [...(opts.except ?? [])] };
}

export function first<T>(set: Set<T>): T {
  return set.values().next().value as T;
}
