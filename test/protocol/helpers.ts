// Shared by the protocol tests: comparing decoded values whose binary parts
// may be Buffers (Node's base64 decoding) or plain Uint8Arrays.

/** A copy of `value` in which every binary value becomes `{ bytes: [...] }`, so equality compares contents only. */
export function withPlainBytes(value: unknown): unknown {
  if (value instanceof ArrayBuffer) return { bytes: Array.from(new Uint8Array(value)) };
  if (ArrayBuffer.isView(value)) return { bytes: Array.from(new Uint8Array(value.buffer, value.byteOffset, value.byteLength)) };
  if (Array.isArray(value)) return value.map(withPlainBytes);
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = Object.create(null);
    for (const key of Object.keys(value)) out[key] = withPlainBytes((value as Record<string, unknown>)[key]);
    return out;
  }
  return value;
}

/** A small deterministic PRNG (mulberry32), so fuzz runs are reproducible from their seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
