// Received binary in the shape the application expects: Buffer in Node (as
// the codec gives it), ArrayBuffer in browsers, as socket.io-client does.
import type { BinaryType } from './options.js';

/** Converts received bytes to the configured binary type. */
export function toBinaryType(data: Uint8Array, binaryType: BinaryType): Uint8Array | ArrayBuffer {
  if (binaryType !== 'arraybuffer') return data;
  const { buffer, byteOffset, byteLength } = data;
  if (byteOffset === 0 && byteLength === buffer.byteLength && buffer instanceof ArrayBuffer) return buffer;
  return buffer.slice(byteOffset, byteOffset + byteLength) as ArrayBuffer;
}

/** UTF-8 byte length of a string, without allocating. */
export function utf8Length(text: string): number {
  let length = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) length += 1;
    else if (code < 0x800) length += 2;
    else if (code >= 0xd800 && code < 0xdc00 && i + 1 < text.length) {
      length += 4;
      i++;
    } else length += 3;
  }
  return length;
}
