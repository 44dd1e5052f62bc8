// Hashes the start of a file through one reused buffer. A read stream would
// allocate a new 64 KiB buffer per read: resuming a 50 MB transfer at 40 MB,
// or announcing a large upload, would leave tens of MB of garbage outside the
// JavaScript heap, which V8 collects only once 32 MB of it has piled up (see
// young-gc.ts).
import type { Hash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';

/** Bytes read at a time. */
const READ_BYTES = 256 * 1024;

/** Feeds bytes [0, length) of `fh` to `hash`; throws if the file is shorter. */
export async function hashRange(fh: FileHandle, length: number, hash: Hash): Promise<void> {
  const buf = Buffer.allocUnsafe(Math.min(READ_BYTES, Math.max(1, length)));
  let pos = 0;
  while (pos < length) {
    const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, length - pos), pos);
    if (bytesRead === 0) throw new Error(`the file ended at ${pos} bytes, expected ${length}`);
    hash.update(buf.subarray(0, bytesRead));
    pos += bytesRead;
  }
}
