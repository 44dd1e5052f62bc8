// Between the sources and the outbox: readings from serial ports and the
// simulator are held in memory for one event-loop turn, then committed to the
// outbox in one transaction. It owns the in-memory bound (and its overflow
// count) and the cap of a finite simulation.
import { EventEmitter } from 'node:events';
import type { Outbox, ReadingValue } from '../outbox.js';

/** Most readings held in memory between two outbox commits. */
export const MAX_PENDING = 10_000;

/** Logger subset the collector uses. */
interface CollectorLogger {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** Collects readings and commits them to the outbox; emits `committed` (count) and `outbox-drops` (count). */
export class Collector extends EventEmitter {
  private pending: Array<{ ts: number; values: Record<string, ReadingValue> }> = [];
  private flushScheduled = false;
  /** Readings lost because the in-memory queue before the outbox overflowed. */
  overflow = 0;

  constructor(
    private readonly outbox: Outbox,
    private readonly log: CollectorLogger,
    /** Stop at this seq (a finite simulation, across restarts too); 0: never. */
    private readonly seqCap = 0,
  ) {
    super();
  }

  /** Queues readings for the next outbox commit (one transaction per event-loop turn). */
  ingest(samples: Array<Record<string, ReadingValue>>, ts = Date.now()): void {
    for (const values of samples) {
      if (this.pending.length >= MAX_PENDING) {
        this.overflow++;
        continue;
      }
      this.pending.push({ ts, values });
    }
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** True once a finite simulation has all its seqs. */
  get capReached(): boolean {
    return this.seqCap > 0 && this.outbox.lastSeq >= this.seqCap;
  }

  /** Commits what is pending now. */
  flush(): void {
    this.flushScheduled = false;
    if (this.pending.length === 0) return;
    let batch = this.pending;
    this.pending = [];
    if (this.seqCap > 0) batch = batch.slice(0, Math.max(0, this.seqCap - this.outbox.lastSeq));
    if (batch.length === 0) return;
    const before = this.outbox.dropped.size;
    try {
      this.outbox.append(batch);
    } catch (err) {
      this.log.error({ err: (err as Error).message, lost: batch.length }, 'outbox write failed');
      return;
    }
    const dropped = this.outbox.dropped.size - before;
    if (dropped) {
      this.log.warn({ dropped, maxReadings: this.outbox.maxReadings }, 'outbox full; dropped oldest readings');
      this.emit('outbox-drops', dropped);
    }
    this.emit('committed', batch.length);
  }
}
