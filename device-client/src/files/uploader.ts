// The device side of device -> hub files: announces the file (its id is
// derived from its content, so an upload interrupted by a disconnect, or by
// a restart of the device, resumes where the hub's partial file ends), then
// sends chunks read from disk one at a time as the hub grants credit, and
// resolves with the hub's outcome. Works on any device-client socket.
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { basename } from 'node:path';
import { crc32 } from 'node:zlib';
import type { FileCredit, FileDone, FileUploadAck } from '@sitehub/protocol/iot';
import type { Socket } from '../client/socket.js';
import { hashRange } from './hash-range.js';

/** What to upload. */
export interface UploadOptions {
  /** `snapshot`, `log`, … */
  kind: string;
  contentType: string;
  /** Stored name (default: the file's base name). */
  name?: string;
  /** Upload id (default: derived from the content). */
  id?: string;
  /** Longest wait for the hub's answers, ms. */
  timeoutMs?: number;
}

/** Uploads `path` over `socket`; resumes across reconnects; resolves with the hub's outcome (`fileId` when stored). */
export async function uploadFile(socket: Socket, path: string, opts: UploadOptions): Promise<FileDone> {
  const fh = await open(path, 'r');
  let sha256: string;
  let size: number;
  try {
    size = (await fh.stat()).size;
    const hash = createHash('sha256');
    await hashRange(fh, size, hash);
    sha256 = hash.digest('hex');
  } catch (err) {
    await fh.close();
    throw err;
  }
  const id = opts.id ?? `up-${sha256.slice(0, 32)}`;
  const request = { id, name: opts.name ?? basename(path), size, sha256, contentType: opts.contentType, kind: opts.kind };
  const timeoutMs = opts.timeoutMs ?? 15_000;
  let chunkSize = 0;
  let next = 0;
  let limit = 0;
  let pumping = false;
  const pump = async () => {
    if (pumping) return;
    pumping = true;
    try {
      const chunks = Math.max(1, Math.ceil(size / chunkSize));
      while (next < limit && next < chunks && socket.connected) {
        const index = next;
        const length = Math.min(chunkSize, size - index * chunkSize);
        const data = Buffer.allocUnsafe(length);
        await fh.read(data, 0, length, index * chunkSize);
        if (next !== index) continue; // rewound by a resend request during the read
        socket.emit('file:chunk', { id, index, crc: crc32(data), data });
        next = index + 1;
      }
    } finally {
      pumping = false;
    }
  };
  return new Promise<FileDone>((resolve, reject) => {
    // The hub grants credit right after its ack; the ack's continuation may run after that event.
    let early: Array<Partial<FileCredit>> = [];
    const onCredit = (c: Partial<FileCredit> | undefined) => {
      if (!c || c.id !== id || typeof c.next !== 'number' || typeof c.credit !== 'number') return;
      if (chunkSize === 0) return void early.push(c);
      if (c.resend) next = c.next;
      limit = c.resend ? c.next + c.credit : Math.max(limit, c.next + c.credit);
      void pump().catch(finishWithError);
    };
    const onDone = (d: FileDone | undefined) => {
      if (!d || d.id !== id) return;
      cleanup();
      resolve(d);
    };
    const start = async () => {
      try {
        const ack = (await socket.timeout(timeoutMs).emitWithAck('file:upload', request)) as FileUploadAck;
        if (!ack.ok) {
          cleanup();
          return resolve({ id, ok: false, error: ack.error, code: ack.code });
        }
        chunkSize = ack.chunkSize;
        next = limit = ack.have;
        const credits = early;
        early = [];
        for (const c of credits) onCredit(c);
      } catch {
        // No answer: the session probably dropped; the next connect starts again.
      }
    };
    const onConnect = () => {
      chunkSize = 0;
      early = [];
      void start();
    };
    const finishWithError = (err: unknown) => {
      cleanup();
      reject(err);
    };
    const cleanup = () => {
      socket.off('file:credit', onCredit);
      socket.off('file:done', onDone);
      socket.off('connect', onConnect);
      void fh.close().catch(() => {});
    };
    socket.on('file:credit', onCredit);
    socket.on('file:done', onDone);
    socket.on('connect', onConnect);
    if (socket.connected) void start();
  });
}
