// What each packet type may carry, one rule per type. A rule returns why the
// payload is unacceptable, or null when it is fine.
import { RESERVED_EVENTS } from './packet.js';

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

/** The payload rule of each packet type, indexed by type (CONNECT .. BINARY_ACK). */
export const PAYLOAD_RULES: readonly PayloadRule[] = [connect, disconnect, event, ack, connectError, event, ack];

/** Whether a packet of this type may carry an ack id ('optional'), must ('required'), or may not ('forbidden'). */
export type AckIdUse = 'forbidden' | 'optional' | 'required';

/** The ack id rule of each packet type, indexed by type (CONNECT .. BINARY_ACK). */
export const ACK_ID_USE: readonly AckIdUse[] = [
  'forbidden',
  'forbidden',
  'optional',
  'required',
  'forbidden',
  'optional',
  'required',
];
