// Builds the parser chain a serial source is configured with.
import type { Transform } from 'node:stream';
import { CsvParser } from './csv.js';
import { JsonLinesParser } from './json-lines.js';
import { KeyValueParser } from './key-value.js';
import { LineSplitter } from './line-splitter.js';
import { NmeaParser } from './nmea.js';
import { Sds011Parser } from './sds011.js';
import type { CountingTransform } from './types.js';

export { CsvParser, JsonLinesParser, KeyValueParser, LineSplitter, NmeaParser, Sds011Parser };
export { encodeSds011 } from './sds011.js';
export { checksum as nmeaChecksum } from './nmea.js';
export type { ParsedRecord } from './types.js';

/** The parsers a serial source can name. */
export type ParserName = 'json-lines' | 'key-value' | 'csv' | 'nmea' | 'sds011';
export const PARSER_NAMES: readonly ParserName[] = ['json-lines', 'key-value', 'csv', 'nmea', 'sds011'];

/** Parser configuration: its name and options. */
export interface ParserSpec {
  type: ParserName;
  /** Longest line, bytes, for line-based parsers (default 4096). */
  maxLineBytes?: number;
  /** CSV column names (else the first line is the header). */
  columns?: string[];
  /** CSV separator (default `,`). */
  separator?: string;
}

/** A parser chain: write bytes into `input`, read records from `output`. */
export interface ParserChain {
  input: Transform;
  output: Transform;
  /** Noise dropped along the chain. */
  dropped(): number;
}

/** Builds the chain for `spec` (line splitter + line parser, or a binary frame parser). */
export function createParser(spec: ParserSpec): ParserChain {
  if (spec.type === 'sds011') {
    const p = new Sds011Parser();
    return { input: p, output: p, dropped: () => p.dropped };
  }
  const lines = new LineSplitter({ maxLineBytes: spec.maxLineBytes });
  const parser: CountingTransform =
    spec.type === 'json-lines'
      ? new JsonLinesParser()
      : spec.type === 'key-value'
        ? new KeyValueParser()
        : spec.type === 'csv'
          ? new CsvParser({ columns: spec.columns, separator: spec.separator })
          : new NmeaParser();
  lines.pipe(parser);
  return { input: lines, output: parser, dropped: () => lines.dropped + parser.dropped };
}
