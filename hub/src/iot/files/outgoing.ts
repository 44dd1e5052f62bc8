// One hub -> device transfer on one device session: the offer, then chunks
// read from disk as they are credited (and one more) and sent as the device
// grants credit. At most min(credit, window) chunks are ever out; a `resend`
// credit rewinds to the chunk the device asks for. Ends when the device reports the outcome, or
// when the session ends (the delivery then resumes on the next session from
// the chunks the device says it has).
import { crc32 } from 'node:zlib';
import { chunkCount, type FileCredit, type FileDone, type FileOffer } from '@sitehub/protocol/iot';
import type { Socket } from '../../realtime/index.js';
import type { IotContext } from '../context.js';
import type { FileRecord } from '../store/types.js';
import type { FileDisk } from './disk.js';

/** How long a device has to answer an offer. */
const OFFER_TIMEOUT_MS = 15_000;

/** Room left in a session's write buffer for everything else it carries (commands, twin deltas) beside a window of chunks. */
const OTHER_TRAFFIC_BYTES = 64 * 1024;
/** Upper bound of a chunk's Socket.IO envelope (event name, id, index, CRC, placeholder, frame headers). */
const ENVELOPE_BYTES = 256;

/**
 * The most chunks that may be out at once on a session: the engine cuts off
 * a session whose unwritten backlog exceeds its `maxBufferedBytes` when a
 * packet is queued (a slow consumer), and a sender that emits as soon as
 * credit arrives can have a whole window unwritten when the kernel's socket
 * buffer is full. A window past this bound disconnected the device in the
 * middle of every transfer (then resumed: it looked only slow).
 */
export function sessionWindow(window: number, chunkSize: number, maxBufferedBytes: number): number {
  // The check looks at the backlog before each packet, so the last chunk of the window is let in on top of the others.
  const fits = 1 + Math.floor((maxBufferedBytes - OTHER_TRAFFIC_BYTES - ENVELOPE_BYTES) / (chunkSize + ENVELOPE_BYTES));
  return Math.max(1, Math.min(window, fits));
}

/** How a transfer ended. */
export type OutgoingEnd = { kind: 'done'; outcome: FileDone } | { kind: 'refused'; error: string } | { kind: 'disconnected' };

/** Hooks of a transfer into its delivery record. */
export interface OutgoingProgress {
  /** The device confirmed everything before `next`. */
  confirmed(next: number): void;
}

/** A hub -> device transfer; `credit` and `done` are fed by the session's dispatcher. */
export class OutgoingTransfer {
  readonly chunks: number;
  /** Chunks out at most: the configured window, within what the session may buffer. */
  readonly window: number;
  /** Chunks emitted, resends included (for metrics and tests). */
  sentChunks = 0;
  private next = 0;
  private limit = 0;
  private confirmedNext = 0;
  private pumping = false;
  /** Chunks read (or being read) before they are sent, by index: those credited and one more. */
  private readonly reads = new Map<number, Promise<Buffer>>();
  /** Credits that arrived before the offer's ack was handled (the device grants right after acking). */
  private early: Array<Partial<FileCredit>> | null = [];
  private finish!: (end: OutgoingEnd) => void;
  private readonly ended: Promise<OutgoingEnd>;
  private fh: Awaited<ReturnType<FileDisk['openForRead']>> | undefined;

  constructor(
    private readonly ctx: IotContext,
    private readonly socket: Socket,
    private readonly disk: FileDisk,
    readonly file: FileRecord,
    private readonly chunkSize: number,
    window: number,
    private readonly progress: OutgoingProgress,
  ) {
    this.chunks = chunkCount(file.size, chunkSize);
    this.window = sessionWindow(window, chunkSize, socket.conn.server.opts.maxBufferedBytes);
    this.ended = new Promise((resolve) => (this.finish = resolve));
  }

  /** Offers the file and runs the transfer to its end. */
  async run(): Promise<OutgoingEnd> {
    const onDisconnect = () => this.finish({ kind: 'disconnected' });
    this.socket.once('disconnect', onDisconnect);
    try {
      this.fh = await this.disk.openForRead(this.file.id);
      const offer: FileOffer = { id: this.file.id, name: this.file.name, size: this.file.size, sha256: this.file.sha256, chunkSize: this.chunkSize, contentType: this.file.contentType };
      this.ctx.metrics.eventsOut.inc('device|file:offer');
      const answer = (await this.offer(offer)) as { ok?: unknown; have?: unknown; error?: unknown } | undefined;
      if (answer === undefined) return await this.endWith({ kind: 'disconnected' });
      if (answer?.ok !== true) return await this.endWith({ kind: 'refused', error: typeof answer?.error === 'string' ? answer.error.slice(0, 512) : 'the device refused the file' });
      const have = typeof answer.have === 'number' && Number.isSafeInteger(answer.have) && answer.have >= 0 ? Math.min(answer.have, this.chunks) : 0;
      this.next = this.limit = this.confirmedNext = have;
      if (have > 0) this.progress.confirmed(have);
      const early = this.early ?? [];
      this.early = null;
      for (const c of early.slice(0, 64)) this.credit(c);
      return await this.ended;
    } finally {
      this.socket.off('disconnect', onDisconnect);
      // Reads in flight settle on the closed handle and are ignored.
      this.reads.clear();
      await this.fh?.close().catch(() => {});
      this.fh = undefined;
    }
  }

  /** A credit from the device. */
  credit(c: Partial<FileCredit>): void {
    if (this.early) {
      if (this.early.length < 64) this.early.push(c);
      return;
    }
    const next = c.next;
    const credit = c.credit;
    if (typeof next !== 'number' || typeof credit !== 'number' || !Number.isSafeInteger(next) || !Number.isSafeInteger(credit) || next < 0 || next > this.chunks || credit < 0) {
      this.ctx.metrics.badInputs.inc('file_shape');
      return;
    }
    if (c.resend === true && next < this.next) {
      this.ctx.metrics.eventsIn.inc('device|file:resend');
      this.next = next;
      // Reads beyond the rewound credit would stay in memory until reached again: drop them.
      for (const i of this.reads.keys()) if (i > next + Math.min(credit, this.window)) this.reads.delete(i);
    }
    if (next > this.confirmedNext) {
      this.confirmedNext = next;
      this.progress.confirmed(next);
    }
    // Never more ahead than the hub's own window, whatever the device grants.
    this.limit = Math.max(this.limit, next + Math.min(credit, this.window));
    if (c.resend === true) this.limit = next + Math.min(credit, this.window);
    void this.pump();
  }

  /** The device's outcome. */
  done(outcome: FileDone): void {
    this.finish({ kind: 'done', outcome });
  }

  private offer(offer: FileOffer): Promise<unknown> {
    return new Promise((resolve) => {
      this.ended.then(() => resolve(undefined));
      this.socket.timeout(OFFER_TIMEOUT_MS).emit('file:offer', offer, (err: unknown, answer: unknown) => resolve(err ? { ok: false, error: 'no answer to the offer' } : answer));
    });
  }

  private async endWith(end: OutgoingEnd): Promise<OutgoingEnd> {
    this.finish(end);
    return this.ended;
  }

  /**
   * Sends chunks while credit allows. The chunks credited and the one
   * after them are read ahead, and the reads survive between pumps: with a
   * credit per chunk the window is full whenever a grant arrives, so a chunk
   * read only then would put a thread-pool hop between every grant and its
   * chunk. Memory: the window (read or in the socket's buffers) plus one
   * chunk, per transfer, as a class of devices may receive at once.
   */
  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.next < this.limit && this.next < this.chunks && this.socket.connected && this.fh) {
        const index = this.next;
        this.readAhead();
        const pending = this.reads.get(index)!;
        const data = await pending;
        if (this.reads.get(index) === pending) this.reads.delete(index);
        // A resend may have rewound `next` during the read: send what was read only if it is still due.
        if (this.next !== index) continue;
        this.socket.emit('file:chunk', { id: this.file.id, index, crc: crc32(data), data });
        this.sentChunks++;
        this.ctx.metrics.eventsOut.inc('device|file:chunk');
        this.next = index + 1;
      }
      if (this.socket.connected && this.fh) this.readAhead();
    } catch (err) {
      this.ctx.log.error({ err, fileId: this.file.id }, 'file chunk not sent');
      this.finish({ kind: 'refused', error: 'the hub could not read the file' });
    } finally {
      this.pumping = false;
    }
  }

  /** Starts the reads of the chunks credited and the one after them, those not read or being read. */
  private readAhead(): void {
    const end = Math.min(Math.max(this.limit, this.next) + 1, this.chunks);
    for (let i = this.next; i < end; i++) {
      if (this.reads.has(i)) continue;
      const data = this.read(i);
      data.catch(() => {});
      this.reads.set(i, data);
    }
  }

  private async read(index: number): Promise<Buffer> {
    const start = index * this.chunkSize;
    const length = Math.min(this.chunkSize, this.file.size - start);
    const data = Buffer.allocUnsafe(length);
    const { bytesRead } = await this.fh!.read(data, 0, length, start);
    if (bytesRead !== length) throw new Error(`file ${this.file.id} is shorter on disk than its record`);
    return data;
  }
}
