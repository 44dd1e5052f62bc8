// Engine.IO v3 packets and payloads, for servers that accept older clients
// (socket.io-client 2.x, many embedded Socket.IO libraries). Packets are the
// v4 ones except for binary: a WebSocket binary frame starts with the type
// byte, and base64 inside text is `b<type digit><base64>`. Polling payloads
// are length-prefixed: `<length>:<packet>` in text, and in binary
// `<0 string | 1 binary><length as one byte per decimal digit><255><bytes>`.
import { decodeBase64, encodeBase64 } from '../base64.js';
import { toUint8Array, type EngineDecoded, type EngineDecodeError, type EnginePacket, type EnginePacketTypeName, type RawData } from './packet.js';

const TYPE_NAMES: readonly EnginePacketTypeName[] = ['open', 'close', 'ping', 'pong', 'message', 'upgrade', 'noop'];

const PARSER_ERROR: EngineDecodeError = Object.freeze({ type: 'error', data: 'parser error' }) as EngineDecodeError;

// A length header longer than this cannot describe a body we would accept
// (16 digits is beyond any maxHttpBufferSize): refuse it before counting.
const MAX_LENGTH_DIGITS = 16;

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

function isBinaryData(data: unknown): data is ArrayBuffer | ArrayBufferView {
  return data instanceof ArrayBuffer || ArrayBuffer.isView(data);
}

/**
 * Encodes one v3 packet. Binary data becomes `[type byte, ...bytes]` when the
 * transport carries binary (`supportsBinary`), `b<type digit><base64>` otherwise.
 */
export function encodePacketV3(packet: EnginePacket, supportsBinary: boolean): RawData {
  const digit = TYPE_NAMES.indexOf(packet.type);
  const data: unknown = packet.data;
  if (isBinaryData(data)) {
    const bytes = toUint8Array(data);
    if (!supportsBinary) return 'b' + digit + encodeBase64(bytes);
    const out = new Uint8Array(bytes.byteLength + 1);
    out[0] = digit;
    out.set(bytes, 1);
    return out;
  }
  return String(digit) + (data ? String(data) : '');
}

/** Decodes one v3 packet (a WebSocket frame or one entry of a payload); never throws. */
export function decodePacketV3(raw: RawData | ArrayBuffer | ArrayBufferView): EngineDecoded {
  if (typeof raw !== 'string') {
    if (!isBinaryData(raw)) return PARSER_ERROR;
    const bytes = toUint8Array(raw);
    const type = bytes.length > 0 ? TYPE_NAMES[bytes[0]!] : undefined;
    return type === undefined ? PARSER_ERROR : { type, data: bytes.subarray(1) };
  }
  if (raw.length === 0) return PARSER_ERROR;
  if (raw.charCodeAt(0) === 0x62 /* b */) {
    const type = TYPE_NAMES[raw.charCodeAt(1) - 0x30];
    const bytes = type === undefined ? null : decodeBase64(raw.slice(2));
    return bytes ? { type: type!, data: bytes } : PARSER_ERROR;
  }
  const type = TYPE_NAMES[raw.charCodeAt(0) - 0x30];
  if (type === undefined) return PARSER_ERROR;
  return raw.length > 1 ? { type, data: raw.slice(1) } : { type };
}

/**
 * Encodes packets into one v3 polling body: binary (see the file header) when
 * the client takes binary and a packet is binary, `<length>:<packet>` text
 * otherwise. Text lengths count UTF-16 code units, as JavaScript clients do.
 */
export function encodePayloadV3(packets: readonly EnginePacket[], supportsBinary: boolean): string | Uint8Array {
  if (supportsBinary && packets.some((p) => isBinaryData(p.data))) return encodeBinaryPayloadV3(packets);
  if (packets.length === 0) return '0:';
  let out = '';
  for (const packet of packets) {
    const encoded = encodePacketV3(packet, false) as string;
    out += encoded.length + ':' + encoded;
  }
  return out;
}

function encodeBinaryPayloadV3(packets: readonly EnginePacket[]): Uint8Array {
  const parts: Uint8Array[] = [];
  let total = 0;
  for (const packet of packets) {
    const encoded = encodePacketV3(packet, true);
    const isString = typeof encoded === 'string';
    const bytes = isString ? utf8Encoder.encode(encoded) : encoded;
    const digits = String(bytes.length);
    const header = new Uint8Array(digits.length + 2);
    header[0] = isString ? 0 : 1;
    for (let i = 0; i < digits.length; i++) header[i + 1] = digits.charCodeAt(i) - 0x30;
    header[header.length - 1] = 255;
    parts.push(header, bytes);
    total += header.length + bytes.length;
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/**
 * Decodes a v3 polling body (text, or bytes from an application/octet-stream
 * POST). Stops at the first malformed packet and returns it last.
 */
export function decodePayloadV3(payload: string | Uint8Array): EngineDecoded[] {
  if (typeof payload !== 'string') return decodeBinaryPayloadV3(payload);
  const out: EngineDecoded[] = [];
  if (payload.length === 0) return [PARSER_ERROR];
  let at = 0;
  while (at < payload.length) {
    const colon = payload.indexOf(':', at);
    const digits = colon === -1 ? '' : payload.slice(at, colon);
    if (digits.length === 0 || digits.length > MAX_LENGTH_DIGITS || !/^\d+$/.test(digits)) {
      out.push(PARSER_ERROR);
      return out;
    }
    const length = Number(digits);
    const start = colon + 1;
    if (start + length > payload.length) {
      out.push(PARSER_ERROR);
      return out;
    }
    // `0:` is an empty payload (an empty packet list), not an empty packet.
    if (length > 0) {
      const packet = decodePacketV3(payload.slice(start, start + length));
      out.push(packet);
      if (packet.type === 'error') return out;
    }
    at = start + length;
  }
  return out;
}

function decodeBinaryPayloadV3(bytes: Uint8Array): EngineDecoded[] {
  const out: EngineDecoded[] = [];
  if (bytes.length === 0) return [PARSER_ERROR];
  let at = 0;
  while (at < bytes.length) {
    const kind = bytes[at]!;
    let length = 0;
    let i = at + 1;
    for (; i < bytes.length && bytes[i] !== 255; i++) {
      const digit = bytes[i]!;
      if (digit > 9 || i - at > MAX_LENGTH_DIGITS) {
        out.push(PARSER_ERROR);
        return out;
      }
      length = length * 10 + digit;
    }
    const start = i + 1;
    if ((kind !== 0 && kind !== 1) || i === at + 1 || i >= bytes.length || start + length > bytes.length) {
      out.push(PARSER_ERROR);
      return out;
    }
    const body = bytes.subarray(start, start + length);
    let packet: EngineDecoded;
    if (kind === 1) {
      packet = decodePacketV3(body);
    } else {
      let text: string | undefined;
      try {
        text = utf8Decoder.decode(body);
      } catch {
        text = undefined;
      }
      packet = text === undefined ? PARSER_ERROR : decodePacketV3(text);
    }
    out.push(packet);
    if (packet.type === 'error') return out;
    at = start + length;
  }
  return out;
}
