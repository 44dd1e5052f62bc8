// Engine.IO v4 packets: `<type digit><data>` as text, raw bytes for binary
// messages over WebSocket, `b<base64>` for binary messages inside polling.
import { decodeBase64, encodeBase64 } from '../base64.js';

/** Engine.IO packet type digits, indexed by name. */
export const EnginePacketType = {
  open: 0,
  close: 1,
  ping: 2,
  pong: 3,
  message: 4,
  upgrade: 5,
  noop: 6,
} as const;

export type EnginePacketTypeName = keyof typeof EnginePacketType;

const TYPE_NAMES: readonly EnginePacketTypeName[] = ['open', 'close', 'ping', 'pong', 'message', 'upgrade', 'noop'];

/** Data carried by a packet or a transport frame. */
export type RawData = string | Uint8Array;

/** A decoded Engine.IO packet. */
export interface EnginePacket {
  type: EnginePacketTypeName;
  data?: RawData;
}

/** What the decoder returns instead of throwing when the input is malformed. */
export interface EngineDecodeError {
  type: 'error';
  data: 'parser error';
}

export type EngineDecoded = EnginePacket | EngineDecodeError;

const PARSER_ERROR: EngineDecodeError = Object.freeze({ type: 'error', data: 'parser error' }) as EngineDecodeError;

/** Separator between packets in a polling payload (ASCII record separator). */
export const PAYLOAD_SEPARATOR = '\x1e';

/**
 * Encodes one packet. Binary message data becomes raw bytes when the
 * transport carries binary frames (`supportsBinary`), `b<base64>` otherwise.
 */
export function encodePacket(packet: EnginePacket, supportsBinary: boolean): RawData {
  const { type } = packet;
  // Typed as RawData, but an ArrayBuffer or another view handed over by a
  // caller must still go out as bytes, never as "[object ArrayBuffer]".
  const data: unknown = packet.data;
  if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) {
    const bytes = toUint8Array(data);
    if (supportsBinary) return bytes;
    return 'b' + encodeBase64(bytes);
  }
  // Text as engine.io writes it: the digit then String(data), nothing for a
  // falsy value (send(7) is `47`, send(null) is `4`).
  return String(TYPE_NAMES.indexOf(type)) + (data ? String(data) : '');
}

/** Normalises the binary shapes a transport may hand us to a Uint8Array. */
export function toUint8Array(data: ArrayBuffer | ArrayBufferView): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return new Uint8Array(data);
}

/** Decodes one packet; malformed input yields `{ type: 'error' }`, never a throw. */
export function decodePacket(raw: RawData | ArrayBuffer | ArrayBufferView): EngineDecoded {
  if (typeof raw !== 'string') {
    // A binary frame is always a message; it has no type prefix.
    if (raw instanceof ArrayBuffer || ArrayBuffer.isView(raw)) return { type: 'message', data: toUint8Array(raw) };
    return PARSER_ERROR;
  }
  if (raw.length === 0) return PARSER_ERROR;
  const first = raw.charCodeAt(0);
  if (first === 0x62 /* b */) {
    const bytes = decodeBase64(raw.slice(1));
    return bytes ? { type: 'message', data: bytes } : PARSER_ERROR;
  }
  const digit = first - 0x30;
  if (digit < 0 || digit >= TYPE_NAMES.length) return PARSER_ERROR;
  const type = TYPE_NAMES[digit]!;
  return raw.length > 1 ? { type, data: raw.slice(1) } : { type };
}

/** Encodes packets into one polling body, binary as base64. */
export function encodePayload(packets: readonly EnginePacket[]): string {
  let out = '';
  for (let i = 0; i < packets.length; i++) {
    if (i > 0) out += PAYLOAD_SEPARATOR;
    out += encodePacket(packets[i]!, false) as string;
  }
  return out;
}

/**
 * Decodes a polling body. Stops at the first malformed packet and returns it
 * last, so the caller sees both what was valid and that the body was bad.
 */
export function decodePayload(payload: string): EngineDecoded[] {
  if (typeof payload !== 'string') return [PARSER_ERROR];
  const out: EngineDecoded[] = [];
  let start = 0;
  while (start <= payload.length) {
    let end = payload.indexOf(PAYLOAD_SEPARATOR, start);
    if (end === -1) end = payload.length;
    const packet = decodePacket(payload.slice(start, end));
    out.push(packet);
    if (packet.type === 'error') break;
    start = end + 1;
  }
  return out;
}
