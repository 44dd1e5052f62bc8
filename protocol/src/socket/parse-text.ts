// Parses the text part of a Socket.IO packet:
//   <type>[<attachments>-][<nsp>,][<ack id>][JSON]
// One left-to-right pass with bounded look-ahead: no regular expressions, so
// the cost stays linear in the input whatever its shape.
import { DecodeError } from './decode-error.js';
import { ACK_ID_USE, PAYLOAD_RULES } from './payload-rules.js';
import { PacketType, type Packet } from './packet.js';

const CHAR_0 = 0x30;
const CHAR_9 = 0x39;
const DASH = 0x2d;
const SLASH = 0x2f;

/** Digits in Number.MAX_SAFE_INTEGER; a longer ack id cannot be a safe integer. */
const MAX_ACK_ID_DIGITS = 16;

/** A parsed text packet; `attachments` is 0 unless it is a binary type. */
export interface ParsedText {
  packet: Packet;
  attachments: number;
}

function isDigit(code: number): boolean {
  return code >= CHAR_0 && code <= CHAR_9;
}

/** Reads the run of digits starting at `start`; refuses runs longer than `maxDigits`. */
function digitRunEnd(text: string, start: number, maxDigits: number, tooLong: string): number {
  let end = start;
  while (end < text.length && isDigit(text.charCodeAt(end))) {
    end++;
    if (end - start > maxDigits) throw new DecodeError(tooLong);
  }
  return end;
}

/** Parses and validates one text packet; throws DecodeError on any rule violation. */
export function parsePacketText(text: string, maxAttachments: number): ParsedText {
  if (text.length === 0) throw new DecodeError('empty packet');
  const typeDigit = text.charCodeAt(0) - CHAR_0;
  if (!(typeDigit >= PacketType.CONNECT && typeDigit <= PacketType.BINARY_ACK)) {
    throw new DecodeError('unknown packet type');
  }
  const type = typeDigit as PacketType;
  let pos = 1;

  let attachments = 0;
  if (type === PacketType.BINARY_EVENT || type === PacketType.BINARY_ACK) {
    const end = digitRunEnd(text, pos, String(maxAttachments).length, 'too many attachments');
    // The words socket.io-parser uses, which applications match on.
    if (end === pos || text.charCodeAt(end) !== DASH) throw new DecodeError('Illegal attachments: binary packet without attachment count');
    attachments = Number(text.slice(pos, end));
    if (attachments > maxAttachments) throw new DecodeError('too many attachments');
    if (attachments === 0) throw new DecodeError('Illegal attachments: binary packet with no attachments');
    pos = end + 1;
  }

  let nsp = '/';
  if (text.charCodeAt(pos) === SLASH) {
    const comma = text.indexOf(',', pos);
    const end = comma === -1 ? text.length : comma;
    nsp = text.slice(pos, end);
    pos = comma === -1 ? end : comma + 1;
  }

  let id: number | undefined;
  const idEnd = digitRunEnd(text, pos, MAX_ACK_ID_DIGITS, 'ack id too long');
  if (idEnd > pos) {
    id = Number(text.slice(pos, idEnd));
    if (!Number.isSafeInteger(id)) throw new DecodeError('ack id is not a safe integer');
    pos = idEnd;
  }
  const idUse = ACK_ID_USE[type];
  if (id !== undefined && idUse === 'forbidden') throw new DecodeError('this packet type carries no ack id');
  if (id === undefined && idUse === 'required') throw new DecodeError('ACK without an ack id');

  const present = pos < text.length;
  let data: unknown;
  if (present) {
    try {
      // JSON.parse defines keys as own data properties, so `__proto__` in the
      // input stays a plain key and never reaches any prototype.
      data = JSON.parse(text.slice(pos));
    } catch {
      throw new DecodeError('invalid JSON payload');
    }
  }
  const problem = PAYLOAD_RULES[type]!({ present, data });
  if (problem !== null) throw new DecodeError(problem);

  const packet: Packet = { type, nsp };
  if (id !== undefined) packet.id = id;
  if (present) packet.data = data;
  return { packet, attachments };
}
