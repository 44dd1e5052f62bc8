// JSON lines: each line a flat JSON object, e.g. an Arduino's
// `{"temp":21.4,"rh":40}`. Anything else on the line is noise.
import { CountingTransform, type ParsedRecord } from './types.js';

/** Lines in, one record per line that is a JSON object with at least one scalar field. */
export class JsonLinesParser extends CountingTransform {
  constructor() {
    super({ objectMode: true });
  }

  override _transform(line: string, _enc: BufferEncoding, done: () => void): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      this.countDrop('not JSON');
      return done();
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      this.countDrop('not a JSON object');
      return done();
    }
    const record: ParsedRecord = {};
    let fields = 0;
    for (const [key, value] of Object.entries(parsed as Record<string, unknown>)) {
      if ((typeof value === 'number' && Number.isFinite(value)) || typeof value === 'boolean' || typeof value === 'string') {
        record[key] = value;
        fields++;
      }
    }
    if (fields === 0) this.countDrop('no scalar fields');
    else this.push(record);
    done();
  }
}
