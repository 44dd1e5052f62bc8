// CSV lines with a header: the first line (or the configured columns) names
// the fields; a repeated header (the device rebooted) is recognised and skipped.
import { CountingTransform, coerce, type ParsedRecord } from './types.js';

/** Options of the CSV parser. */
export interface CsvParserOptions {
  /** Column names; when absent the first line is the header. */
  columns?: string[];
  /** Field separator (default `,`). */
  separator?: string;
}

/** Lines in, one record per data line with exactly as many fields as the header. */
export class CsvParser extends CountingTransform {
  private columns: string[] | undefined;
  private readonly separator: string;

  constructor(opts: CsvParserOptions = {}) {
    super({ objectMode: true });
    this.columns = opts.columns;
    this.separator = opts.separator ?? ',';
  }

  override _transform(line: string, _enc: BufferEncoding, done: () => void): void {
    const fields = line.split(this.separator).map((f) => f.trim());
    if (!this.columns) {
      if (fields.every((f) => /^[A-Za-z_][A-Za-z0-9_.:-]{0,63}$/.test(f))) this.columns = fields;
      else this.countDrop('waiting for a header line');
      return done();
    }
    if (fields.length !== this.columns.length) {
      this.countDrop(`expected ${this.columns.length} fields, got ${fields.length}`);
      return done();
    }
    if (fields.every((f, i) => f === this.columns![i])) return done();
    const record: ParsedRecord = {};
    for (let i = 0; i < fields.length; i++) if (fields[i] !== '') record[this.columns[i]] = coerce(fields[i]);
    this.push(record);
    done();
  }
}
