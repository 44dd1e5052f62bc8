// key=value lines: `temp=21.4 rh=40` (pairs separated by spaces, commas or semicolons).
import { NAME_SOURCE } from '@sitehub/protocol/iot';
import { CountingTransform, coerce, type ParsedRecord } from './types.js';

const PAIR = new RegExp('^(' + NAME_SOURCE.slice(1, -1) + ')=(.*)$');

/** Lines in, one record per line made only of key=value pairs. */
export class KeyValueParser extends CountingTransform {
  constructor() {
    super({ objectMode: true });
  }

  override _transform(line: string, _enc: BufferEncoding, done: () => void): void {
    const record: ParsedRecord = {};
    let fields = 0;
    for (const token of line.trim().split(/[\s,;]+/)) {
      if (token === '') continue;
      const match = PAIR.exec(token);
      if (!match) {
        // One stray token means the line is corrupt; keeping half of it would mislabel values.
        this.countDrop('not key=value');
        return done();
      }
      record[match[1]] = coerce(match[2]);
      fields++;
    }
    if (fields === 0) this.countDrop('empty line');
    else this.push(record);
    done();
  }
}
