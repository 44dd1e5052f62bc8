// Sends the outbox to the hub: oldest first, in batches, a bounded number in
// flight, at a bounded rate. A reading leaves the outbox only when the hub's
// ack says it is stored; anything unacked is sent again after a rewind (the
// hub is idempotent on seq, so a resend can only count as a duplicate).
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
}

/** How the sender emits; the agent wires it to its socket. */
export type EmitTelemetry = (batch: Reading[], timeoutMs: number, done: (err: Error | null, ack?: { ok?: boolean; error?: string; code?: string; retryable?: boolean; stored?: number; duplicates?: number }) => void) => void;

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
  rejected: number;
  resends: number;
}

/** The outbox -> hub pump. */
export class BatchSender {
  readonly stats: SenderStats = { sentBatches: 0, ackedReadings: 0, duplicates: 0, rejected: 0, resends: 0 };
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

  /** The batch size (changeable by the `set-interval` command's neighbours). */
  get batchSize(): number {
    return this.opts.batchSize;
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
      const batch = this.outbox.peek(this.cursor, this.opts.batchSize);
      if (batch.length === 0) return;
      if (batch.length < this.opts.batchSize && !flushPartial) return;
      if (!this.take(batch.length)) return;
      this.cursor = batch[batch.length - 1].seq;
      this.send(batch);
    }
  }

  /** Stops timers. */
  stop(): void {
    this.disconnected();
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
        // Refused on content: resending the same readings would be refused forever.
        this.outbox.ack(batch.map((r) => r.seq));
        this.stats.rejected += batch.length;
        this.log.error({ firstSeq: batch[0].seq, lastSeq: batch[batch.length - 1].seq, error: ack.error }, 'hub refused a batch; dropped it');
        if (current) this.pump();
        return;
      }
      if (!current) return;
      this.stats.resends += batch.length;
      this.log.warn({ firstSeq: batch[0].seq, err: err?.message ?? ack?.error }, 'batch not acked; will resend');
      this.rewindPending = true;
      this.wake(this.opts.retryDelayMs ?? 1000);
    });
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
