// Where file bytes live: dataDir/files/<fileId> once complete, and
// dataDir/files/.incoming/ while they arrive. A file is written under a
// temporary name, fsynced and renamed, so a stored name is always whole.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { HubError } from '../errors.js';

/** The file folders of a hub. */
export class FileDisk {
  readonly dir: string;
  readonly incoming: string;

  constructor(dataDir: string) {
    this.dir = join(dataDir, 'files');
    this.incoming = join(this.dir, '.incoming');
  }

  async init(): Promise<void> {
    await mkdir(this.incoming, { recursive: true });
  }

  /** Path of a stored file (ids match FILE_ID_PATTERN or newId: no separators). */
  path(fileId: string): string {
    return join(this.dir, fileId);
  }

  /** Path of a partial upload from a device. */
  partPath(deviceId: string, uploadId: string): string {
    return join(this.incoming, `${deviceId}--${uploadId}.part`);
  }

  /**
   * Streams `body` to the file of `fileId` through a temporary name, hashing
   * as it goes; never holds more than the stream's own buffers. Refuses
   * (HubError file_too_large, 413) past `maxBytes`, leaving nothing behind.
   */
  async writeStream(fileId: string, body: Readable, maxBytes: number): Promise<{ size: number; sha256: string }> {
    const tmp = join(this.incoming, `${fileId}.upload`);
    const hash = createHash('sha256');
    let size = 0;
    const fh = await open(tmp, 'w', 0o600);
    try {
      for await (const chunk of body) {
        const buf = chunk as Buffer;
        size += buf.length;
        if (size > maxBytes) throw new HubError('file_too_large', `the file is larger than ${maxBytes} bytes`, 413);
        hash.update(buf);
        await fh.write(buf);
      }
      await fh.sync();
    } catch (err) {
      await fh.close().catch(() => {});
      await rm(tmp, { force: true });
      body.resume?.(); // drain what is left so the connection can answer
      throw err;
    }
    await fh.close();
    await rename(tmp, this.path(fileId));
    return { size, sha256: hash.digest('hex') };
  }

  /** Opens a stored file for reading chunks. */
  openForRead(fileId: string): Promise<FileHandle> {
    return open(this.path(fileId), 'r');
  }

  /** A stream of a stored file, for downloads. */
  readStream(fileId: string): Readable {
    return createReadStream(this.path(fileId));
  }

  async remove(fileId: string): Promise<void> {
    await rm(this.path(fileId), { force: true });
  }

  /** Removes partial uploads last written before `cutoff` (ms): devices that never came back to finish them. */
  async prunePartials(cutoff: number): Promise<number> {
    let removed = 0;
    for (const name of await readdir(this.incoming).catch(() => [] as string[])) {
      const path = join(this.incoming, name);
      const info = await stat(path).catch(() => undefined);
      if (info && info.mtimeMs < cutoff) {
        await rm(path, { force: true });
        removed++;
      }
    }
    return removed;
  }

  /** Size of a file, or -1 if it does not exist. */
  async sizeOf(path: string): Promise<number> {
    try {
      return (await stat(path)).size;
    } catch {
      return -1;
    }
  }
}
