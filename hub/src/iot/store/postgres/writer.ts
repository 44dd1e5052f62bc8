// Group commit on PostgreSQL, the same contract as writer.ts for SQLite:
// every write submitted while the previous transaction was in flight (or
// during one event-loop turn) goes into one transaction on one connection,
// and its promise settles only after COMMIT.
//
// The hard cases:
// - A failing write must not sink the others: each plain job runs in its own
//   savepoint and is rolled back alone.
// - Batchable writes (telemetry) of the whole group run as one multi-row
//   statement; if that statement fails, it is rolled back to its savepoint and
//   each item is run again alone, so only the item at fault fails.
// - Anything that breaks the transaction itself (connection lost, server
//   restarting, COMMIT failing) rejects every job of the group: nothing in it
//   is acked, and the connection is discarded so the next group gets a new one.
//   A COMMIT whose answer was lost may have committed; the writes are
//   idempotent or retried by the caller, never acked without an answer.
// - One transaction in flight at a time per hub: groups grow while the
//   database is slow instead of piling up connections.
import type pg from 'pg';
import type { StoreStats } from '../types.js';
import { CommitFigures } from '../commit-figures.js';

/** Writes of one kind that can be merged into multi-row statements. */
export interface BatchKind<I, R> {
  /** Runs before the group's transaction, outside it (e.g. DDL that must not hold locks for the whole group). */
  prepare?(client: pg.ClientBase, items: readonly I[]): Promise<void>;
  /** Runs every item in as few statements as it can; one result per item, same order. */
  run(client: pg.ClientBase, items: readonly I[]): Promise<R[]>;
  /** Told about a failed run (e.g. to forget a cache the failure shows is stale). */
  failed?(err: unknown): void;
  /** run() is a single statement, atomic on its own: a group of this kind alone runs it without BEGIN/COMMIT. */
  readonly oneStatement?: boolean;
}

type Settle = { resolve: (value: any) => void; reject: (err: unknown) => void };
type Job =
  | ({ type: 'plain'; work: (client: pg.ClientBase) => Promise<unknown> } & Settle)
  | ({ type: 'batched'; kind: BatchKind<unknown, unknown>; item: unknown } & Settle)
  | ({ type: 'marker' } & Settle)
  | ({ type: 'alone'; work: (client: pg.ClientBase) => Promise<unknown> } & Settle);

type Outcome = { ok: true; value: unknown } | { ok: false; err: unknown };

/** Runs write jobs in grouped transactions on a pool; see the file comment for the contract. */
export class PgGroupCommitWriter {
  private queue: Job[] = [];
  private scheduled = false;
  private running = false;
  private closed = false;
  private readonly figures = new CommitFigures();

  constructor(
    private readonly pool: pg.Pool,
    private readonly maxBatch = 5000,
  ) {}

  /** Queues `work` for the next group commit; resolves with its result after COMMIT. */
  submit<T>(work: (client: pg.ClientBase) => Promise<T>): Promise<T> {
    return this.enqueue<T>((settle) => ({ type: 'plain', work, ...settle }));
  }

  /** Queues one item of a batchable kind; the group's items of that kind run together. */
  submitBatched<I, R>(kind: BatchKind<I, R>, item: I): Promise<R> {
    return this.enqueue<R>((settle) => ({ type: 'batched', kind: kind as BatchKind<unknown, unknown>, item, ...settle }));
  }

  /**
   * Runs `work` by itself, outside any transaction, after every group queued
   * before it has committed and been settled, and before any group queued
   * after it starts: nothing commits while it runs.
   */
  submitAlone<T>(work: (client: pg.ClientBase) => Promise<T>): Promise<T> {
    return this.enqueue<T>((settle) => ({ type: 'alone', work, ...settle }));
  }

  /** Jobs waiting for a commit. */
  get queueDepth(): number {
    return this.queue.length;
  }

  /** Resolves once everything submitted so far is committed or has failed. */
  flush(): Promise<void> {
    if (this.queue.length === 0 && !this.running) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.queue.push({ type: 'marker', resolve, reject: () => resolve() });
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

  private enqueue<T>(make: (settle: Settle) => Job): Promise<T> {
    if (this.closed) return Promise.reject(new Error('store is closed'));
    return new Promise<T>((resolve, reject) => {
      this.queue.push(make({ resolve, reject }));
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.running) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.tick();
    });
  }

  private async tick(): Promise<void> {
    if (this.running || this.queue.length === 0) return;
    this.running = true;
    // A group ends before the first job that must run alone; that job runs next, by itself.
    const alone = this.queue.findIndex((job) => job.type === 'alone');
    const size = Math.min(this.maxBatch, alone === -1 ? this.queue.length : alone === 0 ? 1 : alone);
    const batch = this.queue.length <= size ? this.queue : this.queue.slice(0, size);
    this.queue = batch === this.queue ? [] : this.queue.slice(size);
    try {
      if (batch[0]!.type === 'alone') await this.runAlone(batch[0]!);
      else await this.runGroup(batch);
    } finally {
      this.running = false;
      if (this.queue.length) this.schedule();
    }
  }

  private async runGroup(batch: Job[]): Promise<void> {
    const outcomes: Outcome[] = new Array(batch.length);
    const plain: number[] = [];
    const byKind = new Map<BatchKind<unknown, unknown>, number[]>();
    for (let i = 0; i < batch.length; i++) {
      const job = batch[i]!;
      if (job.type === 'plain') plain.push(i);
      else if (job.type === 'batched') {
        const list = byKind.get(job.kind);
        if (list) list.push(i);
        else byKind.set(job.kind, [i]);
      } else outcomes[i] = { ok: true, value: undefined };
    }
    if (plain.length === 0 && byKind.size === 0) {
      for (const job of batch) job.resolve(undefined);
      return;
    }

    const started = performance.now();
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      this.failAll(batch, err);
      return;
    }
    try {
      for (const [kind, indexes] of byKind) {
        if (!kind.prepare) continue;
        try {
          await kind.prepare(client, indexes.map((i) => (batch[i] as { item: unknown }).item));
        } catch (err) {
          // Only this kind's writes depend on it (e.g. a partition that could not be made in time): they fail, the rest goes on.
          for (const i of indexes) outcomes[i] = { ok: false, err };
          byKind.delete(kind);
        }
      }
      // Telemetry alone (the hot path): one statement, its own transaction, one round trip. If it
      // fails, nothing of it is committed, and the group goes the long way below, item by item.
      let aloneOnly: BatchKind<unknown, unknown> | undefined;
      const [only] = byKind;
      if (plain.length === 0 && byKind.size === 1 && only![0].oneStatement) {
        const [kind, indexes] = only!;
        try {
          const values = await kind.run(client, indexes.map((i) => (batch[i] as { item: unknown }).item));
          indexes.forEach((i, k) => (outcomes[i] = { ok: true, value: values[k] }));
          byKind.clear();
        } catch (err) {
          kind.failed?.(err);
          aloneOnly = kind;
        }
      }
      if (byKind.size === 0 && plain.length === 0) {
        this.committed(client, batch, outcomes, started);
        return;
      }
      await client.query('BEGIN');
      for (const i of plain) {
        outcomes[i] = await this.inSavepoint(client, () => (batch[i] as { work: (c: pg.ClientBase) => Promise<unknown> }).work(client));
      }
      for (const [kind, indexes] of byKind) await this.runBatched(client, kind, indexes, batch, outcomes, kind === aloneOnly);
      await client.query('COMMIT');
    } catch (err) {
      // The transaction itself failed: nothing in it is durable. The connection may be
      // broken; it is destroyed rather than returned to the pool.
      await client.query('ROLLBACK').catch(() => {});
      client.release(err instanceof Error ? err : new Error(String(err)));
      this.failAll(batch, err);
      return;
    }
    this.committed(client, batch, outcomes, started);
  }

  private async runAlone(job: Job & { type: 'alone' }): Promise<void> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      job.reject(err);
      return;
    }
    try {
      const value = await job.work(client);
      client.release();
      job.resolve(value);
    } catch (err) {
      client.release(err instanceof Error ? err : new Error(String(err)));
      job.reject(err);
    }
  }

  /** After COMMIT: the connection back to the pool, the figures, then each job settled. */
  private committed(client: pg.PoolClient, batch: Job[], outcomes: Outcome[], started: number): void {
    client.release();
    const elapsed = performance.now() - started;
    this.figures.committed(batch.length, elapsed);
    for (let i = 0; i < batch.length; i++) {
      const o = outcomes[i]!;
      if (o.ok) batch[i]!.resolve(o.value);
      else {
        this.figures.failedJobs++;
        batch[i]!.reject(o.err);
      }
    }
  }

  /** All items of one kind in one run; if it fails, each item again alone so only the one at fault fails. */
  private async runBatched(client: pg.ClientBase, kind: BatchKind<unknown, unknown>, indexes: number[], batch: Job[], outcomes: Outcome[], aloneOnly: boolean): Promise<void> {
    const items = indexes.map((i) => (batch[i] as { item: unknown }).item);
    if (!aloneOnly) {
      const together = await this.inSavepoint(client, () => kind.run(client, items));
      if (together.ok) {
        const values = together.value as unknown[];
        indexes.forEach((i, k) => (outcomes[i] = { ok: true, value: values[k] }));
        return;
      }
      kind.failed?.(together.err);
    }
    for (let k = 0; k < indexes.length; k++) {
      const alone = await this.inSavepoint(client, async () => (await kind.run(client, [items[k]]))[0]);
      if (!alone.ok) kind.failed?.(alone.err);
      outcomes[indexes[k]!] = alone;
    }
  }

  /** Runs `work` in a savepoint: on failure only its own writes are rolled back. A broken connection throws out of here. */
  private async inSavepoint(client: pg.ClientBase, work: () => Promise<unknown>): Promise<Outcome> {
    await client.query('SAVEPOINT job');
    try {
      const value = await work();
      await client.query('RELEASE job');
      return { ok: true, value };
    } catch (err) {
      // If the connection is gone, this throws and the whole group fails, as it must.
      await client.query('ROLLBACK TO job');
      await client.query('RELEASE job');
      return { ok: false, err };
    }
  }

  private failAll(batch: Job[], err: unknown): void {
    for (const job of batch) {
      if (job.type !== 'marker') this.figures.failedJobs++;
      job.reject(err);
    }
  }
}
