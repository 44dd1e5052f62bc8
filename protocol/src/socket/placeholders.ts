// Decoder side of binary packets: find where each attachment goes before any
// attachment arrives, so a bad header is refused at once and nothing is
// buffered for it.
import { DecodeError } from './decode-error.js';

/** Where one attachment goes: `holder[key]`, currently its placeholder object. */
export interface AttachmentSlot {
  holder: Record<string, unknown> | unknown[];
  key: string | number;
}

function isPlaceholder(value: Record<string, unknown>): boolean {
  return Object.hasOwn(value, '_placeholder') && value['_placeholder'] === true;
}

/**
 * Finds every placeholder in a parsed payload and returns the slots indexed by
 * attachment number. Each number in [0, attachments) must be used exactly once.
 * Iterative, so deeply nested input cannot exhaust the call stack.
 */
export function findAttachmentSlots(data: unknown, attachments: number): AttachmentSlot[] {
  const slots = new Array<AttachmentSlot | undefined>(attachments);
  let found = 0;
  const pending: unknown[] = [data];
  while (pending.length > 0) {
    const container = pending.pop();
    if (typeof container !== 'object' || container === null) continue;
    if (Array.isArray(container)) {
      for (let i = 0; i < container.length; i++) {
        if (visit(container, i, container[i])) pending.push(container[i]);
      }
    } else {
      const record = container as Record<string, unknown>;
      for (const key of Object.keys(record)) {
        if (visit(record, key, record[key])) pending.push(record[key]);
      }
    }
  }
  if (found !== attachments) {
    throw new DecodeError(`packet announces ${attachments} attachments but has ${found} placeholders`);
  }
  return slots as AttachmentSlot[];

  // Records a placeholder; returns true when `value` is a container to search.
  function visit(holder: AttachmentSlot['holder'], key: string | number, value: unknown): boolean {
    if (typeof value !== 'object' || value === null) return false;
    if (Array.isArray(value) || !isPlaceholder(value as Record<string, unknown>)) return true;
    const num = (value as Record<string, unknown>)['num'];
    if (typeof num !== 'number' || !Number.isInteger(num) || num < 0 || num >= attachments) {
      throw new DecodeError('placeholder num must be an integer in [0, attachments)');
    }
    if (slots[num] !== undefined) throw new DecodeError(`placeholder num ${num} used twice`);
    slots[num] = { holder, key };
    found++;
    return false;
  }
}

/** Puts an attachment in its slot, replacing the placeholder. */
export function fillSlot(slot: AttachmentSlot, attachment: unknown): void {
  // Define rather than assign, so that even a `__proto__` key stays plain data.
  Object.defineProperty(slot.holder, slot.key, { value: attachment, writable: true, enumerable: true, configurable: true });
}
