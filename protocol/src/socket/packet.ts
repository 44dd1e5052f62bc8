// The Socket.IO v5 packet model shared by the encoder and the decoder.

/** Socket.IO v5 packet types, as sent in the first character of a packet. */
export const PacketType = {
  CONNECT: 0,
  DISCONNECT: 1,
  EVENT: 2,
  ACK: 3,
  CONNECT_ERROR: 4,
  BINARY_EVENT: 5,
  BINARY_ACK: 6,
} as const;

export type PacketType = (typeof PacketType)[keyof typeof PacketType];

/** One Socket.IO packet; `nsp` is `/` for the main namespace. */
export interface Packet {
  type: PacketType;
  nsp: string;
  data?: unknown;
  id?: number;
  attachments?: number;
}

/** Event names with a meaning of their own on either side; a peer may not emit them. */
export const RESERVED_EVENTS: ReadonlySet<string> = new Set([
  'connect',
  'connect_error',
  'disconnect',
  'disconnecting',
  'newListener',
  'removeListener',
]);

/** True for the types whose payload may carry binary attachments. */
export function isEventOrAck(type: PacketType): boolean {
  return type === PacketType.EVENT || type === PacketType.ACK || type === PacketType.BINARY_EVENT || type === PacketType.BINARY_ACK;
}

/** True for a value that is an integer packet type of this protocol version. */
export function isPacketType(value: unknown): value is PacketType {
  return typeof value === 'number' && Number.isInteger(value) && value >= PacketType.CONNECT && value <= PacketType.BINARY_ACK;
}
