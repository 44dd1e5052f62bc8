// SDS011 particulate sensor frames: 10 binary bytes
// AA C0 pm25lo pm25hi pm10lo pm10hi id1 id2 checksum AB.
// Binary, so never split on a delimiter byte: the parser hunts for the
// header, checks tail and checksum, and on a bad frame resumes one byte later.
import { CountingTransform, type ParsedRecord } from './types.js';

const FRAME = 10;
const HEAD = 0xaa;
const CMD_DATA = 0xc0;
const TAIL = 0xab;

/** Bytes in, `{ pm25, pm10 }` (µg/m³) out per valid data frame. */
export class Sds011Parser extends CountingTransform {
  private pending: Buffer = Buffer.alloc(0);
  private skipped = 0;

  constructor() {
    super({ readableObjectMode: true });
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    let buf = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    let i = 0;
    while (buf.length - i >= 2) {
      if (buf[i] !== HEAD || buf[i + 1] !== CMD_DATA) {
        i++;
        this.skipped++;
        continue;
      }
      if (buf.length - i < FRAME) break;
      const frame = buf.subarray(i, i + FRAME);
      let sum = 0;
      for (let k = 2; k < 8; k++) sum += frame[k];
      if (frame[9] !== TAIL || (sum & 0xff) !== frame[8]) {
        // A bad frame and the bytes skipped to resync after it are one piece of noise.
        i++;
        this.skipped++;
        continue;
      }
      this.flushSkipped();
      const record: ParsedRecord = { pm25: frame.readUInt16LE(2) / 10, pm10: frame.readUInt16LE(4) / 10 };
      this.push(record);
      i += FRAME;
    }
    // A lone trailing byte may be the start of the next header.
    buf = buf.subarray(i);
    this.pending = Buffer.from(buf);
    done();
  }

  private flushSkipped(): void {
    // A run of bytes between frames counts as one piece of noise, not one per byte.
    if (this.skipped > 0) {
      this.skipped = 0;
      this.countDrop('bytes outside a frame');
    }
  }
}

/** Encodes a data frame (for simulators and tests). */
export function encodeSds011(pm25: number, pm10: number, id = 0x1234): Buffer {
  const frame = Buffer.alloc(FRAME);
  frame[0] = HEAD;
  frame[1] = CMD_DATA;
  frame.writeUInt16LE(Math.round(pm25 * 10), 2);
  frame.writeUInt16LE(Math.round(pm10 * 10), 4);
  frame.writeUInt16LE(id, 6);
  let sum = 0;
  for (let k = 2; k < 8; k++) sum += frame[k];
  frame[8] = sum & 0xff;
  frame[9] = TAIL;
  return frame;
}
