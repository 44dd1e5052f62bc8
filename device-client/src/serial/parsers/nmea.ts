// NMEA 0183 sentences from GPS receivers: GGA (fix) and RMC (position,
// speed, course); the checksum is verified, other sentence types are ignored.
import { CountingTransform, type ParsedRecord } from './types.js';

/** Options of the NMEA parser. */
export interface NmeaParserOptions {
  /** Accept sentences without a `*hh` checksum (default false). */
  allowMissingChecksum?: boolean;
}

/** Lines in, one record per valid GGA or RMC sentence. */
export class NmeaParser extends CountingTransform {
  /** Valid sentences of types this parser does not decode. */
  ignored = 0;
  private readonly allowMissingChecksum: boolean;

  constructor(opts: NmeaParserOptions = {}) {
    super({ objectMode: true });
    this.allowMissingChecksum = opts.allowMissingChecksum ?? false;
  }

  override _transform(line: string, _enc: BufferEncoding, done: () => void): void {
    const start = line.indexOf('$');
    if (start < 0) {
      this.countDrop('no $ sentence start');
      return done();
    }
    const sentence = line.slice(start + 1);
    const star = sentence.lastIndexOf('*');
    let body = sentence;
    if (star >= 0) {
      body = sentence.slice(0, star);
      const expected = parseInt(sentence.slice(star + 1, star + 3), 16);
      if (!(expected === checksum(body))) {
        this.countDrop('bad checksum');
        return done();
      }
    } else if (!this.allowMissingChecksum) {
      this.countDrop('no checksum');
      return done();
    }
    const fields = body.split(',');
    const type = fields[0].slice(-3);
    const record = type === 'GGA' ? gga(fields) : type === 'RMC' ? rmc(fields) : undefined;
    if (record === undefined) this.ignored++;
    else if (record === null) this.countDrop(`malformed ${type}`);
    else this.push(record);
    done();
  }
}

/** XOR of the characters between `$` and `*`. */
export function checksum(body: string): number {
  let sum = 0;
  for (let i = 0; i < body.length; i++) sum ^= body.charCodeAt(i);
  return sum;
}

/** ddmm.mmmm + hemisphere -> signed decimal degrees. */
function degrees(value: string, hemisphere: string, degreeDigits: number): number | null {
  if (!/^\d+(\.\d+)?$/.test(value)) return null;
  const deg = Number(value.slice(0, degreeDigits));
  const min = Number(value.slice(degreeDigits));
  if (!(min < 60)) return null;
  const sign = hemisphere === 'S' || hemisphere === 'W' ? -1 : hemisphere === 'N' || hemisphere === 'E' ? 1 : 0;
  if (sign === 0) return null;
  return sign * Math.round((deg + min / 60) * 1e7) / 1e7;
}

function num(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? n : undefined;
}

function gga(f: string[]): ParsedRecord | null {
  if (f.length < 10) return null;
  const fix = num(f[6]);
  if (fix === undefined) return null;
  const record: ParsedRecord = { fix };
  const sats = num(f[7]);
  if (sats !== undefined) record.sats = sats;
  if (fix > 0) {
    const lat = degrees(f[2], f[3], 2);
    const lon = degrees(f[4], f[5], 3);
    if (lat === null || lon === null) return null;
    record.lat = lat;
    record.lon = lon;
    const hdop = num(f[8]);
    const alt = num(f[9]);
    if (hdop !== undefined) record.hdop = hdop;
    if (alt !== undefined) record.alt = alt;
  }
  return record;
}

function rmc(f: string[]): ParsedRecord | null {
  if (f.length < 10) return null;
  const valid = f[2] === 'A';
  if (!valid) return f[2] === 'V' ? { valid: false } : null;
  const lat = degrees(f[3], f[4], 2);
  const lon = degrees(f[5], f[6], 3);
  if (lat === null || lon === null) return null;
  const record: ParsedRecord = { valid, lat, lon };
  const speed = num(f[7]);
  const course = num(f[8]);
  if (speed !== undefined) record.speed_kn = speed;
  if (course !== undefined) record.course = course;
  return record;
}
