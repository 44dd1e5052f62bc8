// Group commit: every write submitted during one event-loop turn runs in a
// single SQLite transaction on the next turn, and its promise settles only
// after COMMIT. One commit per tick instead of one per device message is what
// lets hundreds of devices wait for durable acks without a transaction each.
import type { SqliteDb } from './db.js';
import type { StoreStats } from './types.js';

interface Job {
  work: () => unknown;
  resolve: (value: any) => void;
  reject: (err: unknown) => void;
}

import { CommitFigures } from './commit-figures.js';


/** Runs write jobs in batched transactions; a failing job is rolled back alone (savepoint), the others commit. */
export class GroupCommitWriter {
  private queue: Job[] = [];
  private scheduled = false;
  private closed = false;
  private readonly begin;
  private readonly commit;
  private readonly rollback;
  private readonly savepoint;
  private readonly release;
  private readonly rollbackTo;
  private readonly figures = new CommitFigures();

  constructor(
    private readonly db: SqliteDb,
    private readonly maxBatch = 5000,
  ) {
    this.begin = db.prepare('BEGIN');
    this.commit = db.prepare('COMMIT');
    this.rollback = db.prepare('ROLLBACK');
    this.savepoint = db.prepare('SAVEPOINT job');
    this.release = db.prepare('RELEASE job');
    this.rollbackTo = db.prepare('ROLLBACK TO job');
  }

  /** Queues `work` (synchronous SQLite calls) for the next group commit; resolves with its result after COMMIT. */
  submit<T>(work: () => T): Promise<T> {
    if (this.closed) return Promise.reject(new Error('store is closed'));
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ work, resolve, reject });
      this.schedule();
    });
  }

  /** Jobs waiting for a commit. */
  get queueDepth(): number {
    return this.queue.length;
  }

  /** Resolves once everything submitted so far is committed. */
  flush(): Promise<void> {
    if (this.queue.length === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.queue.push({ work: () => undefined, resolve, reject: () => resolve() });
      this.schedule();
    });
  }

  /** Commits what is queued, then refuses new work. */
  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
  }

  /** Figures for /metrics. */
  stats(): StoreStats {
    return this.figures.stats(this.queue.length);
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.tick);
  }

  private tick = (): void => {
    this.scheduled = false;
    const batch = this.queue.length <= this.maxBatch ? this.queue : this.queue.slice(0, this.maxBatch);
    this.queue = batch === this.queue ? [] : this.queue.slice(this.maxBatch);
    if (this.queue.length) this.schedule();
    const results: Array<{ ok: boolean; value: unknown }> = new Array(batch.length);
    const started = performance.now();
    try {
      this.begin.run();
      for (let i = 0; i < batch.length; i++) {
        this.savepoint.run();
        try {
          results[i] = { ok: true, value: batch[i]!.work() };
          this.release.run();
        } catch (err) {
          this.rollbackTo.run();
          this.release.run();
          results[i] = { ok: false, value: err };
        }
      }
      this.commit.run();
    } catch (err) {
      // The transaction itself failed (disk full, I/O error): nothing in it is durable.
      if (this.db.inTransaction) this.rollback.run();
      this.figures.failedJobs += batch.length;
      for (const job of batch) job.reject(err);
      return;
    }
    const elapsed = performance.now() - started;
    this.figures.committed(batch.length, elapsed);
    for (let i = 0; i < batch.length; i++) {
      const r = results[i]!;
      if (r.ok) batch[i]!.resolve(r.value);
      else {
        this.figures.failedJobs++;
        batch[i]!.reject(r.value);
      }
    }
  };
}
