// Encoder side of binary packets: a copy of the payload in which every binary
// value is replaced by `{"_placeholder":true,"num":N}`, N counting in the order
// JSON.stringify will write them, plus the list of the binary values.
import { attachmentBytes, isBinary } from './binary.js';

/** A JSON-ready copy of a payload and the attachments taken out of it. */
export interface DeconstructedPayload {
  data: unknown;
  attachments: Uint8Array[];
}

/** Replaces each binary value in `data` with a numbered placeholder; `data` is left untouched. */
export function deconstructPayload(data: unknown): DeconstructedPayload {
  const attachments: Uint8Array[] = [];
  const copy = replaceBinary(data, '', attachments, new Set(), true);
  return { data: copy, attachments };
}

function placeholderFor(value: ArrayBuffer | ArrayBufferView | Blob, attachments: Uint8Array[]): object {
  attachments.push(attachmentBytes(value));
  return { _placeholder: true, num: attachments.length - 1 };
}

function replaceBinary(
  value: unknown,
  key: string,
  attachments: Uint8Array[],
  ancestors: Set<object>,
  honourToJSON: boolean,
): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (isBinary(value)) return placeholderFor(value, attachments);
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (honourToJSON && typeof toJSON === 'function') {
    // Mirror JSON.stringify: what toJSON returns is what gets serialised.
    return replaceBinary(toJSON.call(value, key), key, attachments, ancestors, false);
  }
  if (ancestors.has(value)) throw new TypeError('Converting circular structure to JSON');
  ancestors.add(value);
  let copy: unknown;
  if (Array.isArray(value)) {
    const items = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) items[i] = replaceBinary(value[i], String(i), attachments, ancestors, true);
    copy = items;
  } else {
    // No prototype, so a `__proto__` key is stored as plain data like every other key.
    const fields: Record<string, unknown> = Object.create(null);
    for (const field of Object.keys(value)) {
      fields[field] = replaceBinary((value as Record<string, unknown>)[field], field, attachments, ancestors, true);
    }
    copy = fields;
  }
  ancestors.delete(value);
  return copy;
}
