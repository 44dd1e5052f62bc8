// Browser side of base64.ts (package.json "browser" field): btoa/atob only,
// so the browser bundle carries no Node Buffer branch. Same results.

const BASE64_RE = /^[A-Za-z0-9+/]*={0,2}$/;

/** Encodes bytes as standard base64 with padding. */
export function encodeBase64(bytes: Uint8Array): string {
  let binary = '';
  // In slices: fromCharCode takes its input as call arguments.
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

/** Decodes standard base64; returns null when the text is not valid base64. */
export function decodeBase64(text: string): Uint8Array | null {
  if (text.length % 4 === 1 || !BASE64_RE.test(text)) return null;
  try {
    return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  } catch {
    // Padding where atob does not allow it ("ab=").
    return null;
  }
}
