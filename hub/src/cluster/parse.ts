// Shape checks for what arrives from Redis. Redis is shared infrastructure,
// but any process with access can publish there, so every message is checked
// before it is used; a message that fails is dropped and counted.
import type { BroadcastOptions } from '../realtime/index.js';
import type { WirePacket } from './protocol.js';

const isString = (v: unknown): v is string => typeof v === 'string';
const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every(isString);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A packet an adapter may deliver: an EVENT (or BINARY_EVENT) with a named event. */
export function asPacket(v: unknown): WirePacket | undefined {
  if (!isObject(v)) return undefined;
  if (v.type !== 2 && v.type !== 5) return undefined;
  if (!Array.isArray(v.data) || v.data.length === 0) return undefined;
  if (typeof v.data[0] !== 'string' && typeof v.data[0] !== 'number') return undefined;
  if (v.nsp !== undefined && !isString(v.nsp)) return undefined;
  return { type: 2, data: v.data, nsp: v.nsp ?? '/' };
}

/** Broadcast options from the wire (arrays) to the adapter's form (sets); flags kept when they are an object. */
export function asOptions(v: unknown): BroadcastOptions | undefined {
  if (!isObject(v)) return undefined;
  const rooms = v.rooms ?? [];
  const except = v.except ?? [];
  if (!isStringArray(rooms) || !isStringArray(except)) return undefined;
  const flags = isObject(v.flags) ? pickFlags(v.flags) : {};
  return { rooms: new Set(rooms), except: new Set(except), flags };
}

/** Only the flags that mean something on a receiving node; `local` is dropped: the sender already chose to publish. */
function pickFlags(f: Record<string, unknown>): BroadcastOptions['flags'] {
  const flags: NonNullable<BroadcastOptions['flags']> = {};
  if (f.volatile === true) flags.volatile = true;
  if (f.compress === false) flags.compress = false;
  if (typeof f.timeout === 'number' && Number.isFinite(f.timeout) && f.timeout >= 0) flags.timeout = f.timeout;
  return flags;
}

/** A decoded broadcast message: [uid, packet, opts]. */
export interface BroadcastMessage {
  uid: string;
  packet: WirePacket;
  opts: BroadcastOptions;
}

export function asBroadcast(v: unknown): BroadcastMessage | undefined {
  if (!Array.isArray(v) || v.length !== 3 || !isString(v[0])) return undefined;
  const packet = asPacket(v[1]);
  const opts = asOptions(v[2]);
  return packet && opts ? { uid: v[0], packet, opts } : undefined;
}

/** A request or a response, with the fields each type uses checked when present. */
export interface Envelope {
  type?: number;
  uid?: string;
  requestId?: string;
  raw: Record<string, unknown>;
}

export function asEnvelope(v: unknown): Envelope | undefined {
  if (!isObject(v)) return undefined;
  if (v.type !== undefined && typeof v.type !== 'number') return undefined;
  if (v.uid !== undefined && !isString(v.uid)) return undefined;
  if (v.requestId !== undefined && !isString(v.requestId)) return undefined;
  return { type: v.type as number | undefined, uid: v.uid as string | undefined, requestId: v.requestId as string | undefined, raw: v };
}

export { isString, isStringArray, isObject };
