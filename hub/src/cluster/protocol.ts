// The wire format shared with @socket.io/redis-adapter's classic (pub/sub)
// adapter and @socket.io/redis-emitter: channel names, request types, and
// the two encodings on those channels (MessagePack as notepack.io writes it
// for broadcasts and broadcast acks, JSON for the other requests and
// responses). A receiver tells them apart by the first byte: `{` is JSON.
import { decode as msgpackDecode, encode as msgpackEncode } from 'notepack.io';

/** Request and response types, numbered as on the wire. */
export const RequestType = {
  SOCKETS: 0,
  ALL_ROOMS: 1,
  REMOTE_JOIN: 2,
  REMOTE_LEAVE: 3,
  REMOTE_DISCONNECT: 4,
  REMOTE_FETCH: 5,
  SERVER_SIDE_EMIT: 6,
  BROADCAST: 7,
  BROADCAST_CLIENT_COUNT: 8,
  BROADCAST_ACK: 9,
} as const;

/** The channels of one namespace under one key prefix (default 'socket.io'). */
export interface Channels {
  /** Broadcasts: `<key>#<nsp>#`, plus `<room>#` when a broadcast targets exactly one room. */
  broadcast: string;
  /** Requests to every node: `<key>-request#<nsp>#`; its subscriber count is the node count. */
  request: string;
  /** Responses to every node: `<key>-response#<nsp>#`. */
  response: string;
  /** Responses to one node: `<key>-response#<nsp>#<uid>#`. */
  specificResponse(uid: string): string;
  /** sitehub's own membership channel (socket.io nodes never subscribe to it): `<key>-heartbeat#<nsp>#`. */
  heartbeat: string;
}

/** Builds the channel names of namespace `nsp`. */
export function channelsOf(key: string, nsp: string): Channels {
  const response = `${key}-response#${nsp}#`;
  return {
    broadcast: `${key}#${nsp}#`,
    request: `${key}-request#${nsp}#`,
    response,
    specificResponse: (uid) => `${response}${uid}#`,
    heartbeat: `${key}-heartbeat#${nsp}#`,
  };
}

/** Broadcast options as they travel: arrays instead of sets. */
export interface WireBroadcastOptions {
  rooms: string[];
  except: string[];
  flags?: object;
}

/** A Socket.IO packet as the adapters exchange it (type, data, nsp; never an ack id). */
export interface WirePacket {
  type: number;
  data: unknown[];
  nsp?: string;
}

/** The payload of a broadcast channel message, as notepack encodes the array [uid, packet, opts]. */
export function encodeBroadcast(uid: string, packet: WirePacket, opts: WireBroadcastOptions): Buffer {
  return msgpackEncode([uid, packet, opts]) as Buffer;
}

/** Encodes a value with MessagePack exactly as notepack.io does. */
export function encodeMsgpack(value: unknown): Buffer {
  return msgpackEncode(value) as Buffer;
}

/** Decodes a request or response: JSON when it starts with `{`, MessagePack otherwise; throws on garbage. */
export function decodeMessage(raw: Buffer): unknown {
  if (raw.length > 0 && raw[0] === 0x7b) return JSON.parse(raw.toString('utf8'));
  return msgpackDecode(raw);
}

/** Decodes a broadcast channel message; throws on garbage. */
export function decodeBroadcast(raw: Buffer): unknown {
  return msgpackDecode(raw);
}
