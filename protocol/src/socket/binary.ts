// Recognising binary values. The codec runs in browsers too, so it checks for
// ArrayBuffer, typed array views and Blob, never for Node's Buffer (a Buffer is
// a Uint8Array and is recognised as such).

const BlobClass: { new (): Blob; prototype: Blob } | undefined = typeof Blob === 'function' ? Blob : undefined;

/** True for an ArrayBuffer, any ArrayBufferView (Uint8Array, Buffer, DataView...) or a Blob. */
export function isBinary(value: unknown): value is ArrayBuffer | ArrayBufferView | Blob {
  return (
    value instanceof ArrayBuffer ||
    ArrayBuffer.isView(value) ||
    (BlobClass !== undefined && value instanceof BlobClass)
  );
}

/** True when binary data sits anywhere inside `data` (objects, arrays, toJSON results). */
export function hasBinary(data: unknown): boolean {
  return containsBinary(data, true, 0, null);
}

/**
 * Past this depth the search remembers the containers it has seen, so a cyclic
 * structure ends the search instead of the stack; shallow payloads, the common
 * case, pay nothing for it.
 */
const CYCLE_CHECK_DEPTH = 32;

function containsBinary(value: unknown, honourToJSON: boolean, depth: number, seen: Set<object> | null): boolean {
  if (value === null || typeof value !== 'object') return false;
  if (isBinary(value)) return true;
  if (depth >= CYCLE_CHECK_DEPTH) {
    seen ??= new Set();
    // Seen before: either searched already or an ancestor being searched now;
    // either way looking again adds nothing.
    if (seen.has(value)) return false;
    seen.add(value);
  }
  const next = depth + 1;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      if (containsBinary(value[i], true, next, seen)) return true;
    }
    return false;
  }
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  // JSON.stringify serialises what toJSON returns, so that is what counts; it
  // calls toJSON once per value, not again on the result.
  if (honourToJSON && typeof toJSON === 'function') {
    return containsBinary(toJSON.call(value), false, next, seen);
  }
  for (const key in value) {
    if (Object.hasOwn(value, key) && containsBinary((value as Record<string, unknown>)[key], true, next, seen)) return true;
  }
  return false;
}

/** The bytes of an attachment as a Uint8Array, without copying. */
export function attachmentBytes(value: ArrayBuffer | ArrayBufferView | Blob): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  // Reading a Blob is asynchronous; the encoder is not.
  throw new TypeError('Blob attachments cannot be encoded synchronously; convert them to an ArrayBuffer first');
}
