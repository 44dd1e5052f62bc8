// Socket.IO v5 packet encoding:
//   <type>[<attachments>-][<nsp>,][<ack id>][JSON]   + one binary chunk per attachment
import { hasBinary } from './binary.js';
import { deconstructPayload } from './deconstruct.js';
import { isEventOrAck, isPacketType, PacketType, type Packet } from './packet.js';

/** Encodes Socket.IO packets into a text header and the binary attachments that follow it. */
export class Encoder {
  /**
   * First element: the text header (string). Following: the binary attachments in placeholder order.
   * EVENT/ACK whose data holds binary are turned into BINARY_EVENT/BINARY_ACK automatically. Never mutates the input.
   */
  encode(packet: Packet): Array<string | Uint8Array | ArrayBuffer> {
    const { type, data, id } = packet;
    if (!isPacketType(type)) throw new TypeError(`invalid Socket.IO packet type: ${String(type)}`);
    const nsp = checkNamespace(packet.nsp);
    if (id !== undefined && id !== null && !(Number.isSafeInteger(id) && id >= 0)) {
      throw new TypeError(`invalid ack id: ${String(id)}`);
    }
    if (isEventOrAck(type)) {
      // The binary flavour is decided by the payload, whatever the caller chose.
      const isEvent = type === PacketType.EVENT || type === PacketType.BINARY_EVENT;
      if (hasBinary(data)) {
        const { data: withPlaceholders, attachments } = deconstructPayload(data);
        const binaryType = isEvent ? PacketType.BINARY_EVENT : PacketType.BINARY_ACK;
        const head = `${binaryType}${attachments.length}-${nspPrefix(nsp)}${idText(id)}${jsonText(withPlaceholders)}`;
        return [head, ...attachments];
      }
      const plainType = isEvent ? PacketType.EVENT : PacketType.ACK;
      return [`${plainType}${nspPrefix(nsp)}${idText(id)}${jsonText(data)}`];
    }
    return [`${type}${nspPrefix(nsp)}${idText(id)}${jsonText(data)}`];
  }
}

function checkNamespace(nsp: unknown): string {
  if (nsp === undefined || nsp === null || nsp === '') return '/';
  // A comma would end the namespace early on the receiving side.
  if (typeof nsp !== 'string' || nsp.charCodeAt(0) !== 0x2f /* / */ || nsp.includes(',')) {
    throw new TypeError(`invalid namespace: ${String(nsp)}`);
  }
  return nsp;
}

function nspPrefix(nsp: string): string {
  return nsp === '/' ? '' : nsp + ',';
}

function idText(id: number | undefined | null): string {
  return id === undefined || id === null ? '' : String(id);
}

function jsonText(data: unknown): string {
  if (data === undefined || data === null) return '';
  // undefined for values JSON cannot represent (functions, symbols).
  return JSON.stringify(data) ?? '';
}
