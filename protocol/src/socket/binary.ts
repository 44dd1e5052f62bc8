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
  return containsBinary(data, true, new Set());
}

function containsBinary(value: unknown, honourToJSON: boolean, visited: Set<object>): boolean {
  if (value === null || typeof value !== 'object') return false;
  if (isBinary(value)) return true;
  // A container reached twice either was already searched or is an ancestor
  // being searched right now; either way looking again adds nothing, and this
  // keeps cyclic structures from recursing forever.
  if (visited.has(value)) return false;
  visited.add(value);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      if (containsBinary(value[i], true, visited)) return true;
    }
    return false;
  }
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  // JSON.stringify serialises what toJSON returns, so that is what counts; it
  // calls toJSON once per value, not again on the result.
  if (honourToJSON && typeof toJSON === 'function') {
    return containsBinary(toJSON.call(value), false, visited);
  }
  for (const key of Object.keys(value)) {
    if (containsBinary((value as Record<string, unknown>)[key], true, visited)) return true;
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
