// What each packet type may carry, one rule per type. A rule returns why the
// payload is unacceptable, or null when it is fine.
import { PacketType, RESERVED_EVENTS } from './packet.js';

/** A decoded payload; `present` is false when the packet had no JSON part. */
export interface ReceivedPayload {
  present: boolean;
  data: unknown;
}

type PayloadRule = (payload: ReceivedPayload) => string | null;

function isPlainObject(value: unknown): boolean {
  // JSON.parse only builds plain objects, arrays and primitives.
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const connect: PayloadRule = ({ present, data }) =>
  !present || isPlainObject(data) ? null : 'CONNECT payload must be an object';

const disconnect: PayloadRule = ({ present }) => (present ? 'DISCONNECT carries no payload' : null);

const event: PayloadRule = ({ present, data }) => {
  if (!present || !Array.isArray(data) || data.length === 0) return 'EVENT payload must be a non-empty array';
  const name: unknown = data[0];
  if (typeof name === 'number') return null;
  if (typeof name !== 'string') return 'event name must be a string or a number';
  return RESERVED_EVENTS.has(name) ? `"${name}" is a reserved event name` : null;
};

const ack: PayloadRule = ({ present, data }) =>
  present && Array.isArray(data) ? null : 'ACK payload must be an array';

const connectError: PayloadRule = ({ present, data }) =>
  present && (typeof data === 'string' || isPlainObject(data)) ? null : 'CONNECT_ERROR payload must be a string or an object';

/** The payload rule of each packet type, indexed by type. */
export const PAYLOAD_RULES: Readonly<Record<PacketType, PayloadRule>> = {
  [PacketType.CONNECT]: connect,
  [PacketType.DISCONNECT]: disconnect,
  [PacketType.EVENT]: event,
  [PacketType.ACK]: ack,
  [PacketType.CONNECT_ERROR]: connectError,
  [PacketType.BINARY_EVENT]: event,
  [PacketType.BINARY_ACK]: ack,
};

/** Whether a packet of this type may, or must, carry an ack id. */
export const ACK_ID_USE: Readonly<Record<PacketType, 'forbidden' | 'optional' | 'required'>> = {
  [PacketType.CONNECT]: 'forbidden',
  [PacketType.DISCONNECT]: 'forbidden',
  [PacketType.EVENT]: 'optional',
  [PacketType.ACK]: 'required',
  [PacketType.CONNECT_ERROR]: 'forbidden',
  [PacketType.BINARY_EVENT]: 'optional',
  [PacketType.BINARY_ACK]: 'required',
};
