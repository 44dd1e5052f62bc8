// The device side of hub -> device files: answers an offer with the chunks a
// partial file already holds, grants credit, checks each chunk's CRC (a bad
// one is asked again), appends it, and at the end checks the SHA-256, fsyncs,
// renames into place (atomic: the target name only ever holds a whole file),
// runs the configured hook, and reports the outcome. Memory: at most the
// granted window of chunks is ever in flight.
import { execFile } from 'node:child_process';
import { createHash, type Hash } from 'node:crypto';
import { mkdir, open, rename, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { chunkCount, FILE_ID_PATTERN, FILE_NAME_PATTERN, type FileDone, type FileOffer, type FileOfferAck } from '@sitehub/protocol/iot';
import type { Logger } from 'pino';
import { hashRange } from './hash-range.js';
import { collectYoungGeneration } from './young-gc.js';

/** Where files go and what the device accepts. */
export interface ReceiverOptions {
  /** Folder files are written to (partial files in its `.partial` subfolder). */
  dir: string;
  /** Largest file accepted, bytes. */
  maxBytes: number;
  /** Chunks granted at a time. */
  windowChunks: number;
  /** A program run with the file's path after it is in place; its exit code is reported. */
  hook?: string;
  hookTimeoutMs: number;
}

/** The socket calls the receiver needs. */
export interface ReceiverSocket {
  readonly connected: boolean;
  emit(event: string, ...args: unknown[]): unknown;
}

/** Largest chunk size accepted from an offer. */
const MAX_CHUNK_BYTES = 8 * 1024 * 1024;

interface Transfer {
  offer: FileOffer;
  chunks: number;
  /** Chunks before this one are on disk (written, not yet fsynced). */
  expected: number;
  /** Next chunk accepted: chunks from `expected` to here are checked, hashed and being written. */
  nextAccept: number;
  granted: number;
  hash: Hash;
  fh: FileHandle;
  part: string;
  /** Writes in flight; each chunk has its own place in the file, so they run side by side in the thread pool. */
  writing: Set<Promise<void>>;
  /** Chunks written out of order, waiting for the ones before them. */
  writtenAhead: Set<number>;
  /** A corrupt chunk is to be asked again once the writes before it are done. */
  resendDue: boolean;
  finished: boolean;
  /** Bytes written since the last young-generation GC. */
  sinceCollect: number;
}

/** Receives files offered by the hub; feed it `file:offer` and `file:chunk`. */
export class FileReceiver {
  /** Counters: chunks written, chunks refused as corrupt, files completed. */
  readonly stats = { chunks: 0, corrupt: 0, files: 0, resumedFrom: [] as number[] };
  private current: Transfer | undefined;

  constructor(
    private readonly socket: ReceiverSocket,
    private readonly opts: ReceiverOptions,
    private readonly log: Logger,
  ) {}

  /** `file:offer` from the hub. */
  async offer(raw: Partial<FileOffer> | undefined, ack: (answer: FileOfferAck) => void): Promise<void> {
    const o = raw ?? {};
    const bad = (error: string, code = 'file_shape') => ack({ ok: false, error, code });
    if (typeof o.id !== 'string' || !FILE_ID_PATTERN.test(o.id)) return bad('bad id');
    if (typeof o.name !== 'string' || !FILE_NAME_PATTERN.test(o.name)) return bad('bad name', 'file_name');
    if (typeof o.size !== 'number' || !Number.isSafeInteger(o.size) || o.size < 0) return bad('bad size');
    if (o.size > this.opts.maxBytes) return bad(`larger than this device accepts (${this.opts.maxBytes} bytes)`, 'file_too_large');
    if (typeof o.chunkSize !== 'number' || !Number.isSafeInteger(o.chunkSize) || o.chunkSize < 1 || o.chunkSize > MAX_CHUNK_BYTES) return bad('bad chunkSize');
    if (typeof o.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(o.sha256)) return bad('bad sha256');
    const offer = o as FileOffer;
    // One transfer at a time: a new offer (a new session, or the next file) replaces the one in progress.
    await this.close();
    const partial = join(this.opts.dir, '.partial');
    await mkdir(partial, { recursive: true });
    const part = join(partial, `${offer.id}-${offer.sha256.slice(0, 16)}.part`);
    const chunks = chunkCount(offer.size, offer.chunkSize);
    let existing = -1;
    try {
      existing = (await stat(part)).size;
    } catch {
      /* none yet */
    }
    const have = existing > 0 ? Math.min(Math.floor(existing / offer.chunkSize), chunks - 1) : 0;
    const fh = await open(part, existing >= 0 ? 'r+' : 'w+', 0o600);
    await fh.truncate(have * offer.chunkSize);
    const hash = createHash('sha256');
    await hashRange(fh, have * offer.chunkSize, hash);
    this.current = { offer, chunks, expected: have, nextAccept: have, granted: have, hash, fh, part, writing: new Set(), writtenAhead: new Set(), resendDue: false, finished: false, sinceCollect: 0 };
    this.stats.resumedFrom.push(have);
    this.log.info({ id: offer.id, file: offer.name, size: offer.size, have, chunks }, have > 0 ? 'file offer: resuming' : 'file offer');
    ack({ ok: true, have });
    this.grant(this.current, false);
  }

  /**
   * `file:chunk` from the hub. The chunk is checked and hashed here, in
   * arrival order, and its write starts at once without waiting for the
   * previous one: a write per chunk in turn left the receiver waiting on a
   * thread-pool round trip per chunk. Memory stays bounded by the credit:
   * at most the granted window is in flight or being written.
   */
  chunk(c: { id?: unknown; index?: unknown; crc?: unknown; data?: unknown } | undefined): void {
    const t = this.current;
    if (!t || t.finished || t.resendDue || !c || c.id !== t.offer.id) return;
    if (c.index !== t.nextAccept || t.nextAccept >= t.granted) return; // stale after a resend request, or beyond credit
    const index = c.index;
    const bytes = c.data instanceof Uint8Array ? c.data : c.data instanceof ArrayBuffer ? new Uint8Array(c.data) : undefined;
    const length = Math.min(t.offer.chunkSize, t.offer.size - index * t.offer.chunkSize);
    if (!bytes || bytes.length !== length || typeof c.crc !== 'number' || crc32(bytes) !== c.crc) {
      this.stats.corrupt++;
      this.log.warn({ id: t.offer.id, index }, 'corrupt chunk: asking for it again');
      t.resendDue = true;
      if (t.writing.size === 0) this.grant(t, true);
      return;
    }
    t.nextAccept++;
    const written = this.write(t, index, bytes);
    t.writing.add(written);
    void written.finally(() => t.writing.delete(written));
  }

  /** The session ended: keep the partial file for the next offer. */
  async close(): Promise<void> {
    const t = this.current;
    if (!t) return;
    this.current = undefined;
    t.finished = true;
    await Promise.all(t.writing);
    await t.fh.close().catch(() => {});
  }

  private async write(t: Transfer, index: number, bytes: Uint8Array): Promise<void> {
    // The SHA-256 runs while the write is in the thread pool; chunks are accepted in order, so it is of the file's bytes in order.
    const written = t.fh.write(bytes, 0, bytes.length, index * t.offer.chunkSize);
    t.hash.update(bytes);
    try {
      await written;
    } catch (err) {
      if (!t.finished) this.fail(t, err);
      return;
    }
    if (t.finished) return;
    this.stats.chunks++;
    t.writtenAhead.add(index);
    const before = t.expected;
    while (t.writtenAhead.delete(t.expected)) t.expected++;
    if (t.expected === before) return; // an earlier chunk is still being written
    // The chunks written since the last collection are garbage now: free them (see young-gc.ts).
    t.sinceCollect += (t.expected - before) * t.offer.chunkSize;
    if (t.sinceCollect >= this.opts.windowChunks * t.offer.chunkSize) {
      t.sinceCollect = 0;
      collectYoungGeneration();
    }
    if (t.expected < t.chunks) {
      // A corrupt chunk waits for the writes before it, so that a resend's `next` is always what is on disk.
      if (t.resendDue && t.expected < t.nextAccept) return;
      return this.grant(t, t.resendDue);
    }
    try {
      await this.finish(t);
    } catch (err) {
      this.fail(t, err);
    }
  }

  private grant(t: Transfer, resend: boolean): void {
    if (resend) {
      t.resendDue = false;
      t.nextAccept = t.expected;
    }
    t.granted = t.expected + this.opts.windowChunks;
    if (this.socket.connected) this.socket.emit('file:credit', { id: t.offer.id, next: t.expected, credit: this.opts.windowChunks, ...(resend && { resend: true }) });
  }

  private async finish(t: Transfer): Promise<void> {
    t.finished = true;
    if (this.current === t) this.current = undefined;
    const sha256 = t.hash.digest('hex');
    let done: FileDone;
    if (sha256 !== t.offer.sha256) {
      await t.fh.close();
      done = { id: t.offer.id, ok: false, sha256, error: 'SHA-256 mismatch', code: 'file_checksum' };
    } else {
      await t.fh.sync();
      await t.fh.close();
      const target = join(this.opts.dir, t.offer.name);
      await rename(t.part, target);
      // The rename is durable only once the folder is synced.
      const dir = await open(this.opts.dir, 'r');
      await dir.sync().finally(() => dir.close());
      this.stats.files++;
      done = { id: t.offer.id, ok: true, sha256 };
      if (this.opts.hook) {
        done.hook = await runHook(this.opts.hook, target, this.opts.hookTimeoutMs);
        if (done.hook.code !== 0) Object.assign(done, { ok: false, error: 'the hook failed', code: 'hook_failed' });
      }
    }
    this.log.info({ id: t.offer.id, file: t.offer.name, ok: done.ok, hook: done.hook?.code }, 'file received');
    if (this.socket.connected) this.socket.emit('file:done', done);
  }

  private fail(t: Transfer, err: unknown): void {
    this.log.error({ err, id: t.offer.id }, 'file write failed');
    t.finished = true;
    if (this.current === t) this.current = undefined;
    void t.fh.close().catch(() => {});
    if (this.socket.connected) this.socket.emit('file:done', { id: t.offer.id, ok: false, error: `write failed: ${(err as Error).message}`, code: 'write_failed' });
  }
}

/** Runs the hook with the file's path; resolves with its exit code and the tail of its output. */
function runHook(hook: string, path: string, timeoutMs: number): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    execFile(hook, [path], { timeout: timeoutMs, maxBuffer: 64 * 1024 }, (err, stdout, stderr) => {
      const output = `${stdout}${stderr}`.slice(-1024);
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : null) : 0;
      resolve({ code, output });
    });
  });
}
