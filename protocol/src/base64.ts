// Base64 for binary packets inside polling payloads. Node's Buffer is used when
// present (fast, native); browsers fall back to btoa/atob.

interface NodeBufferLike {
  from(data: string, encoding: string): Uint8Array;
  from(data: ArrayBufferLike, byteOffset: number, length: number): Uint8Array & { toString(encoding: string): string };
}

const NodeBuffer = (globalThis as unknown as { Buffer?: NodeBufferLike }).Buffer;

const BASE64_RE = /^[A-Za-z0-9+/]*={0,2}$/;

/** Encodes bytes as standard base64 with padding. */
export function encodeBase64(bytes: Uint8Array): string {
  if (NodeBuffer) {
    // A view on the same memory: no copy.
    return NodeBuffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
  }
  let binary = '';
  const chunk = 0x8000;
  for (let i = 0; i < bytes.length; i += chunk) {
    binary += String.fromCharCode.apply(null, bytes.subarray(i, i + chunk) as unknown as number[]);
  }
  return btoa(binary);
}

/** Decodes standard base64; returns null when the text is not valid base64. */
export function decodeBase64(text: string): Uint8Array | null {
  if (text.length % 4 === 1 || !BASE64_RE.test(text)) return null;
  if (NodeBuffer) return NodeBuffer.from(text, 'base64');
  try {
    const binary = atob(text);
    const out = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
    return out;
  } catch {
    return null;
  }
}
