// Splits a byte stream into text lines with a bounded length: an over-long
// line is discarded up to its newline and counted, so a device that spews
// garbage never grows memory and the next good line still comes through.
import { CountingTransform } from './types.js';

/** Options of the line splitter. */
export interface LineSplitterOptions {
  /** Longest line kept, bytes (default 4096); longer lines are dropped. */
  maxLineBytes?: number;
}

/** Bytes in, one string per line out (`\n`, `\r\n` or `\r` terminated, empty lines skipped). */
export class LineSplitter extends CountingTransform {
  private readonly maxLineBytes: number;
  private parts: Buffer[] = [];
  private length = 0;
  private discarding = false;

  constructor(opts: LineSplitterOptions = {}) {
    super({ readableObjectMode: true });
    this.maxLineBytes = opts.maxLineBytes ?? 4096;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    let start = 0;
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i];
      if (byte !== 0x0a && byte !== 0x0d) continue;
      this.appendPiece(chunk.subarray(start, i));
      this.endLine();
      start = i + 1;
    }
    this.appendPiece(chunk.subarray(start));
    done();
  }

  override _flush(done: () => void): void {
    // A line without its newline at the end of the stream is a partial line: noise.
    if (this.length > 0) this.countDrop('partial line at end of stream');
    this.parts = [];
    this.length = 0;
    done();
  }

  private appendPiece(piece: Buffer): void {
    if (piece.length === 0 || this.discarding) return;
    if (this.length + piece.length > this.maxLineBytes) {
      this.discarding = true;
      this.parts = [];
      this.length = 0;
      return;
    }
    this.parts.push(piece);
    this.length += piece.length;
  }

  private endLine(): void {
    if (this.discarding) {
      this.discarding = false;
      this.countDrop(`line longer than ${this.maxLineBytes} bytes`);
      return;
    }
    if (this.length === 0) return;
    const line = this.parts.length === 1 ? this.parts[0].toString('utf8') : Buffer.concat(this.parts, this.length).toString('utf8');
    this.parts = [];
    this.length = 0;
    this.push(line);
  }
}
