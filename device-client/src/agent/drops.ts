// One tally of every reading the agent did not deliver, whatever the cause:
// the outbox's size and age limits, serial noise, the in-memory overflow and
// the hub's refusals (the dead-letter table). It also tells the hub about the
// outbox drops it has not heard of, once, as an `outbox-drop` event.
import type { Socket } from '../client/socket.js';
import type { DropCounts, Outbox } from '../outbox.js';

/** Every count of undelivered readings. */
export interface DropTotals {
  /** Oldest readings dropped at the outbox's size limit. */
  size: number;
  /** Readings dropped at the outbox's age limit. */
  age: number;
  /** Serial input the parsers threw away. */
  noise: number;
  /** Readings lost before the outbox (in-memory bound). */
  overflow: number;
  /** Readings the hub refused, kept in the dead-letter table. */
  deadLetter: number;
}

/** Reads the counters where they are kept and reports outbox drops to the hub. */
export class DropTally {
  private reporting = false;

  constructor(
    private readonly outbox: Outbox,
    private readonly noise: () => number,
    private readonly overflow: () => number,
    private readonly ackTimeoutMs: number,
  ) {}

  /** The totals now. */
  totals(): DropTotals {
    const { size, age } = this.outbox.dropped;
    return { size, age, noise: this.noise(), overflow: this.overflow(), deadLetter: this.outbox.deadLetterCount };
  }

  /** Tells the hub about drops it has not heard of; they count as reported once the event is acked. */
  report(socket: Socket | null): void {
    if (!socket?.connected || this.reporting) return;
    const counts: DropCounts = this.outbox.unreportedDrops;
    if (counts.size === 0 && counts.age === 0) return;
    this.reporting = true;
    const total = this.outbox.dropped;
    socket.timeout(this.ackTimeoutMs).emit(
      'event',
      {
        kind: 'outbox-drop',
        severity: 'warning',
        message: `outbox dropped ${counts.size + counts.age} readings (oldest first): ${counts.size} over the size limit, ${counts.age} over the age limit`,
        data: { size: counts.size, age: counts.age, totalSize: total.size, totalAge: total.age },
      },
      (err: Error | null, ack?: { ok?: boolean }) => {
        this.reporting = false;
        if (!err && ack?.ok) {
          this.outbox.markReported(counts);
          this.report(socket);
        }
      },
    );
  }
}
