// What every parser in this folder shares: its output record and its noise counter.
import { Transform, type TransformOptions } from 'node:stream';

/** One parsed record: field name -> value, before the metric mapping. */
export type ParsedRecord = Record<string, number | boolean | string>;

/** A Transform that drops what it cannot parse and counts it instead of failing. */
export abstract class CountingTransform extends Transform {
  /** Inputs dropped as noise (unparseable, oversized, bad checksum). */
  dropped = 0;
  /** Why the last input was dropped, for the debug log. */
  lastDropReason = '';

  constructor(opts: TransformOptions) {
    super(opts);
  }

  protected countDrop(reason: string): void {
    this.dropped++;
    this.lastDropReason = reason;
    this.emit('drop', reason);
  }
}

/** Turns a text field into a number or boolean when it is one, keeps it as text otherwise. */
export function coerce(text: string): number | boolean | string {
  const t = text.trim();
  if (t === 'true') return true;
  if (t === 'false') return false;
  if (t !== '' && /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(t)) {
    const n = Number(t);
    if (Number.isFinite(n)) return n;
  }
  return t;
}
