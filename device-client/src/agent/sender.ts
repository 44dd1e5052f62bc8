// Sends the outbox to the hub: oldest first, in batches, a bounded number in
// flight, at a bounded rate. A reading leaves the outbox only when the hub's
// ack says it is stored, or when the hub refused that very reading (then it
// moves to the dead-letter table); anything unacked is sent again after a
// rewind (the hub is idempotent on seq, so a resend can only count as a
// duplicate). Batches are sized by the limits the hub announces; a batch
// refused for its size is split, one refused on content is narrowed down to
// the reading at fault, so a setting never costs a reading. The sender owns
// the batch interval timer too.
import { DEFAULT_LIMITS, isSizeRefusal, type DeviceLimits, type RefusedAck, type TelemetryAck } from '@sitehub/protocol/iot';
import { EventEmitter } from 'node:events';
import type { Outbox, Reading } from '../outbox.js';

/** Settings of the batch sender. */
export interface SenderOptions {
  batchSize: number;
  maxInFlight: number;
  ackTimeoutMs: number;
  /** Most readings sent per second (bounds a backlog replay). */
  ratePerSec: number;
  /** Wait after a refused or timed-out batch before rewinding, ms. */
  retryDelayMs?: number;
  /** Partial batches go out at least this often, ms (0: only full ones). */
  intervalMs?: number;
}

/** An ack as the sender reads it: the contract's, loosely (an old or odd hub may leave fields out). */
export type SenderAck = Partial<{ ok: boolean } & Omit<Extract<TelemetryAck, { ok: true }>, 'ok'> & Omit<RefusedAck, 'ok'>>;

/** How the sender emits; the agent wires it to its socket. */
export type EmitTelemetry = (batch: Reading[], timeoutMs: number, done: (err: Error | null, ack?: SenderAck) => void) => void;

/** Logger subset the sender uses. */
interface SenderLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** Counters for state and benches. */
export interface SenderStats {
  sentBatches: number;
  ackedReadings: number;
  duplicates: number;
  /** Readings the hub refused on content, moved to the dead-letter table. */
  rejected: number;
  resends: number;
  /** Batches split after a size refusal. */
  splits: number;
}

/** Room left in a message for the event name, the ack id and the array around the readings. */
const MESSAGE_OVERHEAD = 64;

/** The outbox -> hub pump. */
export class BatchSender {
  /** Emits `dead-letter` (seq, code) when a reading moved to the dead-letter table. */
  readonly events = new EventEmitter();
  readonly stats: SenderStats = { sentBatches: 0, ackedReadings: 0, duplicates: 0, rejected: 0, resends: 0, splits: 0 };
  /** What the hub said it takes (its `limits` event); the contract's defaults until then. */
  private limits: Pick<DeviceLimits, 'maxReadingsPerBatch' | 'maxMessageBytes'> = DEFAULT_LIMITS;
  /** Lowered after a size refusal that the announced limits did not foresee. */
  private sizeCap = Infinity;
  /** Up to this seq, batches hold one reading: narrowing a content refusal down to its reading. */
  private isolateThrough = 0;
  private intervalTimer: NodeJS.Timeout | null = null;
  /** Highest seq handed to the socket since the last rewind. */
  private cursor = 0;
  private inFlight = 0;
  private generation = 0;
  private online = false;
  private rewindPending = false;
  private tokens: number;
  private lastRefill = Date.now();
  private wakeTimer: NodeJS.Timeout | null = null;
  private progressTimer: NodeJS.Timeout | null = null;
  private replay: { startedAt: number; startDepth: number; acked: number } | null = null;

  constructor(
    private readonly outbox: Outbox,
    private readonly emit: EmitTelemetry,
    private readonly opts: SenderOptions,
    private readonly log: SenderLogger,
  ) {
    this.tokens = opts.batchSize;
  }

  /** The batch size in use: the configured one within the hub's limits. */
  get batchSize(): number {
    return Math.max(1, Math.min(this.opts.batchSize, this.limits.maxReadingsPerBatch, this.sizeCap));
  }

  /** The partial-batch interval, ms. */
  get intervalMs(): number {
    return this.opts.intervalMs ?? 0;
  }

  /** Takes the limits the hub announced on connect. */
  setLimits(limits: Partial<DeviceLimits> | undefined): void {
    const positive = (v: unknown, fallback: number) => (typeof v === 'number' && Number.isSafeInteger(v) && v > 0 ? v : fallback);
    this.limits = {
      maxReadingsPerBatch: positive(limits?.maxReadingsPerBatch, DEFAULT_LIMITS.maxReadingsPerBatch),
      maxMessageBytes: positive(limits?.maxMessageBytes, DEFAULT_LIMITS.maxMessageBytes),
    };
    this.sizeCap = Infinity; // what the hub says now replaces what its refusals taught
    this.log.info({ batchSize: this.batchSize, hubMaxReadingsPerBatch: this.limits.maxReadingsPerBatch }, 'hub limits');
    this.pump(false);
  }

  /** Starts (or restarts with a new period) the timer that sends partial batches. */
  setIntervalMs(ms: number): void {
    this.opts.intervalMs = ms;
    if (this.intervalTimer) clearInterval(this.intervalTimer);
    this.intervalTimer = ms > 0 ? setInterval(() => this.pump(true), ms) : null;
  }

  /** The connection is up: start from the oldest unacked reading. */
  connected(): void {
    this.online = true;
    this.generation++;
    this.inFlight = 0;
    this.cursor = 0;
    this.rewindPending = false;
    const depth = this.outbox.depth;
    if (depth > this.opts.batchSize) {
      this.replay = { startedAt: Date.now(), startDepth: depth, acked: 0 };
      this.log.info({ backlog: depth, ratePerSec: this.opts.ratePerSec }, 'replaying outbox backlog');
      this.progressTimer = setInterval(() => this.logProgress(), 2000);
      this.progressTimer.unref?.();
    }
    this.pump(true);
  }

  /** The connection is down: forget what is in flight; it stays in the outbox. */
  disconnected(): void {
    this.online = false;
    this.generation++;
    this.inFlight = 0;
    this.cursor = 0;
    this.stopProgress();
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.wakeTimer = null;
  }

  /** Sends what can be sent; partial batches only when `flushPartial` (the batch interval elapsed). */
  pump(flushPartial = false): void {
    while (this.online && this.inFlight < this.opts.maxInFlight) {
      if (this.rewindPending) {
        if (this.inFlight > 0) return;
        this.rewindPending = false;
        this.cursor = 0;
      }
      const size = this.cursor < this.isolateThrough ? 1 : this.batchSize;
      const peeked = this.outbox.peek(this.cursor, size);
      if (peeked.length === 0) return;
      const batch = this.fitBytes(peeked);
      // A batch cut short by the byte limit is as full as it can be.
      if (batch.length === peeked.length && batch.length < size && !flushPartial) return;
      if (!this.take(batch.length)) return;
      this.cursor = batch[batch.length - 1].seq;
      this.send(batch);
    }
  }

  /** Stops timers. */
  stop(): void {
    this.disconnected();
    if (this.intervalTimer) clearInterval(this.intervalTimer);
    this.intervalTimer = null;
  }

  /** The longest prefix of `batch` that fits the hub's message size (at least one reading). */
  private fitBytes(batch: Reading[]): Reading[] {
    const budget = this.limits.maxMessageBytes - MESSAGE_OVERHEAD;
    let bytes = 0;
    for (let i = 0; i < batch.length; i++) {
      // JSON length in UTF-16 units; multi-byte characters make it an underestimate, hence the size-refusal split below.
      bytes += JSON.stringify(batch[i]).length + 1;
      if (bytes > budget && i > 0) return batch.slice(0, i);
    }
    return batch;
  }

  private send(batch: Reading[]): void {
    const generation = this.generation;
    this.inFlight++;
    this.stats.sentBatches++;
    this.emit(batch, this.opts.ackTimeoutMs, (err, ack) => {
      const current = generation === this.generation;
      if (current) this.inFlight--;
      if (!err && ack?.ok) {
        // Deleting is right even for an ack from an older connection: the hub has the data.
        this.outbox.ack(batch.map((r) => r.seq));
        this.stats.ackedReadings += batch.length;
        this.stats.duplicates += ack.duplicates ?? 0;
        if (this.replay) this.replay.acked += batch.length;
        if (this.replay && this.outbox.depth <= this.opts.batchSize) this.finishReplay();
        if (current) this.pump();
        return;
      }
      // The hub marks a failure worth retrying (its commit failed) with retryable: true.
      if (!err && ack && ack.ok === false && ack.retryable !== true) {
        this.refused(batch, ack, current);
        return;
      }
      if (!current) return;
      this.stats.resends += batch.length;
      this.log.warn({ firstSeq: batch[0].seq, err: err?.message ?? ack?.error }, 'batch not acked; will resend');
      this.rewindPending = true;
      this.wake(this.opts.retryDelayMs ?? 1000);
    });
  }

  /**
   * A refusal on content: resending the same batch would be refused forever.
   * The reading the hub names (or the only one) moves to the dead-letter
   * table and the others go again. Otherwise: too big, split the batch;
   * several readings, send them one by one to find the reading at fault.
   */
  private refused(batch: Reading[], ack: SenderAck, current: boolean): void {
    const first = batch[0].seq;
    const last = batch[batch.length - 1].seq;
    const index = batch.length === 1 ? 0 : typeof ack.index === 'number' && Number.isInteger(ack.index) ? ack.index : -1;
    if (index >= 0 && index < batch.length) {
      const seq = batch[index].seq;
      this.outbox.deadLetter(seq, ack.code ?? 'refused', ack.error ?? 'refused by the hub');
      this.stats.rejected++;
      this.log.error({ seq, code: ack.code, error: ack.error }, 'hub refused a reading; moved it to the dead-letter table');
      this.events.emit('dead-letter', seq, ack.code);
      if (!current) return;
      // Nothing of a refused batch was stored: the rest of it goes again.
      if (batch.length > 1) this.rewindPending = true;
      this.pump();
      return;
    }
    if (isSizeRefusal(ack.code)) {
      // A batch sent before the hub's limits arrived is explained by them; only a refusal
      // within the announced limits teaches a smaller size.
      if (batch.length <= this.batchSize) this.sizeCap = Math.max(1, Math.floor(batch.length / 2));
      this.stats.splits++;
      this.log.warn({ firstSeq: first, readings: batch.length, batchSize: this.batchSize, error: ack.error }, 'hub refused a batch for its size; splitting');
    } else {
      this.isolateThrough = Math.max(this.isolateThrough, last);
      this.log.warn({ firstSeq: first, lastSeq: last, code: ack.code, error: ack.error }, 'hub refused a batch on content; resending its readings one by one');
    }
    if (!current) return;
    this.rewindPending = true;
    this.pump();
  }

  /** Token bucket for the send rate; schedules a wake-up when empty. */
  private take(n: number): boolean {
    const now = Date.now();
    const capacity = Math.max(this.opts.batchSize, this.opts.ratePerSec);
    this.tokens = Math.min(capacity, this.tokens + ((now - this.lastRefill) / 1000) * this.opts.ratePerSec);
    this.lastRefill = now;
    if (this.tokens >= n) {
      this.tokens -= n;
      return true;
    }
    this.wake(Math.ceil(((n - this.tokens) / this.opts.ratePerSec) * 1000));
    return false;
  }

  private wake(ms: number): void {
    if (this.wakeTimer) return;
    this.wakeTimer = setTimeout(() => {
      this.wakeTimer = null;
      this.pump(true);
    }, ms);
  }

  private logProgress(): void {
    if (!this.replay) return;
    const seconds = (Date.now() - this.replay.startedAt) / 1000;
    this.log.info({ acked: this.replay.acked, remaining: this.outbox.depth, ratePerSec: Math.round(this.replay.acked / seconds) }, 'replay progress');
  }

  private finishReplay(): void {
    if (!this.replay) return;
    const seconds = (Date.now() - this.replay.startedAt) / 1000;
    this.log.info({ acked: this.replay.acked, seconds: Math.round(seconds * 10) / 10, ratePerSec: Math.round(this.replay.acked / seconds) }, 'outbox backlog replayed');
    this.stopProgress();
  }

  private stopProgress(): void {
    if (this.progressTimer) clearInterval(this.progressTimer);
    this.progressTimer = null;
    this.replay = null;
  }
}
