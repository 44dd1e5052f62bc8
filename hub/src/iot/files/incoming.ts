// One device -> hub upload on one device session: the hub grants credit,
// checks each chunk's CRC (a bad one is asked again), appends it to a
// partial file, and at the end checks the SHA-256, fsyncs and renames the
// file into place. The partial file outlives the session: the next upload
// request with the same id resumes from the chunks it holds.
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { crc32 } from 'node:zlib';
import { chunkCount, type FileDone, type FileUploadRequest } from '@sitehub/protocol/iot';
import type { Socket } from '../../realtime/index.js';
import type { IotContext } from '../context.js';

/** What the device announced (the contract's upload request, once checked). */
export type UploadSpec = FileUploadRequest;

/** A device -> hub upload in progress. */
export class IncomingUpload {
  readonly chunks: number;
  private expected = 0;
  /** Next index accepted into the write queue (checked on arrival, so a flood is refused before it queues). */
  private nextAccept = 0;
  private granted = 0;
  private queue: Promise<void> = Promise.resolve();
  private hash: Hash = createHash('sha256');
  private fh: FileHandle | undefined;
  private finished = false;

  constructor(
    private readonly ctx: IotContext,
    private readonly socket: Socket,
    /** The partial file, kept across sessions. */
    private readonly part: string,
    private readonly deviceId: string,
    readonly spec: UploadSpec,
    private readonly chunkSize: number,
    private readonly window: number,
    /** Called with the verified file in place at `path`; resolves with the stored file's id. */
    private readonly complete: (path: string) => Promise<string>,
    private readonly onEnd: () => void,
  ) {
    this.chunks = chunkCount(spec.size, chunkSize);
  }

  /** Opens (or resumes) the partial file; resolves with how many chunks it already holds. */
  async open(): Promise<number> {
    const existing = await stat(this.part).then((s) => s.size, () => -1);
    const have = existing > 0 ? Math.min(Math.floor(existing / this.chunkSize), this.chunks - 1) : 0;
    this.fh = await open(this.part, existing >= 0 ? 'r+' : 'w+', 0o600);
    await this.fh.truncate(have * this.chunkSize);
    if (have > 0) {
      // The hash state is not kept across sessions: it is rebuilt from the bytes already confirmed.
      for await (const chunk of createReadStream(this.part, { start: 0, end: have * this.chunkSize - 1 })) this.hash.update(chunk as Buffer);
    }
    this.expected = this.nextAccept = have;
    return have;
  }

  /** Grants the first window. */
  start(): void {
    this.grant(false);
  }

  /** One chunk from the device. */
  chunk(c: { index?: unknown; crc?: unknown; data?: unknown }): void {
    if (this.finished) return;
    if (c.index !== this.nextAccept || this.nextAccept >= this.granted) {
      // Out of order after a resend request, or beyond the credit: dropped.
      this.ctx.metrics.badInputs.inc('file_chunk_order');
      return;
    }
    this.nextAccept++;
    const index = c.index as number;
    this.queue = this.queue.then(() => this.write(index, c.crc, c.data)).catch((err: unknown) => this.fail(err));
  }

  /** The session ended: keep the partial file for a resume. */
  async abandon(): Promise<void> {
    this.finished = true;
    await this.queue;
    await this.fh?.close().catch(() => {});
    this.fh = undefined;
  }

  private async write(index: number, crc: unknown, data: unknown): Promise<void> {
    if (this.finished || index !== this.expected) return;
    const length = Math.min(this.chunkSize, this.spec.size - index * this.chunkSize);
    if (data instanceof ArrayBuffer) data = new Uint8Array(data);
    if (!(data instanceof Uint8Array) || data.length !== length || typeof crc !== 'number' || crc32(data) !== crc) {
      this.ctx.metrics.badInputs.inc('file_chunk_corrupt');
      this.nextAccept = this.expected;
      this.grant(true);
      return;
    }
    await this.fh!.write(data, 0, length, index * this.chunkSize);
    this.hash.update(data as Uint8Array);
    this.expected++;
    this.ctx.metrics.eventsIn.inc('device|file:chunk');
    if (this.expected < this.chunks) return this.grant(false);
    await this.finish();
  }

  private grant(resend: boolean): void {
    this.granted = this.expected + this.window;
    if (this.socket.connected) this.socket.emit('file:credit', { id: this.spec.id, next: this.expected, credit: this.window, ...(resend && { resend: true }) });
  }

  private async finish(): Promise<void> {
    this.finished = true;
    const sha256 = this.hash.digest('hex');
    const fh = this.fh!;
    this.fh = undefined;
    let done: FileDone;
    if (sha256 !== this.spec.sha256.toLowerCase()) {
      await fh.close();
      await rm(this.part, { force: true });
      this.ctx.metrics.badInputs.inc('file_checksum');
      done = { id: this.spec.id, ok: false, sha256, error: 'the SHA-256 of the received bytes does not match', code: 'file_checksum' };
    } else {
      await fh.sync();
      await fh.close();
      const fileId = await this.complete(this.part);
      done = { id: this.spec.id, ok: true, sha256, fileId };
    }
    this.onEnd();
    if (this.socket.connected) this.socket.emit('file:done', done);
  }

  private fail(err: unknown): void {
    this.ctx.log.error({ err, deviceId: this.deviceId, uploadId: this.spec.id }, 'upload failed');
    this.finished = true;
    void this.fh?.close().catch(() => {});
    this.fh = undefined;
    this.onEnd();
    if (this.socket.connected) this.socket.emit('file:done', { id: this.spec.id, ok: false, error: 'the hub could not store the file', code: 'internal' });
  }
}

/** Moves a verified partial file into place as `target`. */
export async function placeFile(part: string, target: string): Promise<void> {
  await rename(part, target);
}
