// gzip/deflate for polling responses. Only bodies of at least `threshold`
// bytes are compressed: below that the framing costs more than it saves.
import { deflate, gzip, type ZlibOptions } from 'node:zlib';
import type { HttpCompressionOptions } from './options.js';

export type ContentEncoding = 'gzip' | 'deflate';

/** Picks gzip or deflate from an Accept-Encoding header, or null when neither is acceptable. */
export function chooseEncoding(acceptEncoding: string | string[] | undefined): ContentEncoding | null {
  if (acceptEncoding === undefined) return null;
  const header = Array.isArray(acceptEncoding) ? acceptEncoding.join(',') : acceptEncoding;
  let gzipQ = -1;
  let deflateQ = -1;
  let starQ = -1;
  for (const part of header.split(',')) {
    const [rawName, ...params] = part.split(';');
    const name = rawName!.trim().toLowerCase();
    let q = 1;
    for (const param of params) {
      const [key, value] = param.split('=');
      if (key?.trim() === 'q' && value !== undefined) q = Number(value.trim()) || 0;
    }
    if (name === 'gzip' || name === 'x-gzip') gzipQ = q;
    else if (name === 'deflate') deflateQ = q;
    else if (name === '*') starQ = q;
  }
  if (gzipQ === -1) gzipQ = starQ;
  if (deflateQ === -1) deflateQ = starQ;
  if (gzipQ <= 0 && deflateQ <= 0) return null;
  return gzipQ >= deflateQ ? 'gzip' : 'deflate';
}

/** Compresses `body` off the main thread (zlib's pool). */
export function compressBody(
  body: Buffer,
  encoding: ContentEncoding,
  opts: HttpCompressionOptions,
  done: (err: Error | null, out?: Buffer) => void,
): void {
  const zlibOpts: ZlibOptions = opts.level === undefined ? {} : { level: opts.level };
  (encoding === 'gzip' ? gzip : deflate)(body, zlibOpts, done);
}
