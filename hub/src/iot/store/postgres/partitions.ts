// Telemetry partitions: one per UTC day of device time, made on demand
// before a group commit writes into a day that has none, and dropped whole
// by retention. Creating a partition locks the parent table exclusively, so
// it happens in a short transaction of its own, never inside a group commit,
// under an advisory lock so that hubs sharing the database do not race, and
// with a lock timeout so that a long read on the table delays one day's first
// write (which fails, retryable) rather than queueing every other query
// behind the DDL.
import type pg from 'pg';

/** Width of one telemetry partition (ms): a UTC day. */
export const PARTITION_MS = 86_400_000;

/** Advisory lock key for partition DDL ("part" in ASCII). */
const PARTITION_LOCK = 0x70617274;

/** The partition holding `ts`: its bounds and table name. */
export function partitionOf(ts: number): { from: number; to: number; name: string } {
  const day = Math.floor(ts / PARTITION_MS);
  const from = day * PARTITION_MS;
  const name = day >= 0 ? 'telemetry_' + new Date(from).toISOString().slice(0, 10).replace(/-/g, '') : `telemetry_m${-day}`;
  return { from, to: from + PARTITION_MS, name };
}

/** Knows which partitions exist (a cache of the catalogue) and makes or drops them. */
export class TelemetryPartitions {
  private known = new Set<number>();
  private loaded = false;

  constructor(private readonly lockTimeoutMs = 2000) {}

  /** Forgets what it knows, after a failure showing the cache is stale (another hub dropped a partition). */
  forget(): void {
    this.known.clear();
    this.loaded = false;
  }

  /** Makes sure a partition exists for each of `timestamps`. */
  async ensure(client: pg.ClientBase, timestamps: Iterable<number>): Promise<void> {
    const missing = new Map<number, ReturnType<typeof partitionOf>>();
    for (const ts of timestamps) {
      const from = Math.floor(ts / PARTITION_MS) * PARTITION_MS;
      if (!this.known.has(from) && !missing.has(from)) missing.set(from, partitionOf(ts));
    }
    if (missing.size === 0) return;
    if (!this.loaded) {
      for (const p of await this.list(client)) this.known.add(p.from);
      this.loaded = true;
      for (const from of [...missing.keys()]) if (this.known.has(from)) missing.delete(from);
      if (missing.size === 0) return;
    }
    await client.query('BEGIN');
    try {
      await client.query(`SET LOCAL lock_timeout = ${Math.max(1, Math.floor(this.lockTimeoutMs))}`);
      await client.query('SELECT pg_advisory_xact_lock($1)', [PARTITION_LOCK]);
      for (const p of missing.values()) {
        // The (device_id, seq) key lives on each partition: a unique key on the parent would have to include ts.
        await client.query(
          `CREATE TABLE IF NOT EXISTS ${p.name} PARTITION OF telemetry (CONSTRAINT ${p.name}_key UNIQUE (device_id, seq))
           FOR VALUES FROM (${p.from}) TO (${p.to})`,
        );
      }
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    }
    for (const from of missing.keys()) this.known.add(from);
  }

  /** The partitions of `telemetry`, oldest first, with their bounds. */
  async list(client: pg.ClientBase | pg.Pool): Promise<Array<{ name: string; from: number; to: number }>> {
    const { rows } = await client.query<{ name: string; bound: string }>(
      `SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound
       FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
       WHERE i.inhparent = 'telemetry'::regclass`,
    );
    const out: Array<{ name: string; from: number; to: number }> = [];
    for (const r of rows) {
      const m = /FROM \('?(-?\d+)'?\) TO \('?(-?\d+)'?\)/.exec(r.bound);
      if (m) out.push({ name: r.name, from: Number(m[1]), to: Number(m[2]) });
    }
    return out.sort((a, b) => a.from - b.from);
  }

  /**
   * Drops every partition that ends at or before `cutoff`; returns how many rows went.
   * Each drop is its own short transaction, under the same locks as creation.
   */
  async dropBefore(client: pg.ClientBase, cutoff: number): Promise<number> {
    let removed = 0;
    for (const p of await this.list(client)) {
      if (p.to > cutoff) continue;
      await client.query('BEGIN');
      try {
        await client.query(`SET LOCAL lock_timeout = ${Math.max(1, Math.floor(this.lockTimeoutMs))}`);
        await client.query('SELECT pg_advisory_xact_lock($1)', [PARTITION_LOCK]);
        const exists = await client.query('SELECT 1 FROM pg_class WHERE relname = $1', [p.name]);
        if (exists.rowCount) {
          // Counted for the retention log: the partition is cold, the count reads its key index.
          removed += (await client.query<{ n: number }>(`SELECT count(*)::bigint AS n FROM ${p.name}`)).rows[0]!.n;
          await client.query(`DROP TABLE ${p.name}`);
        }
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {});
        throw err;
      }
      this.known.delete(p.from);
    }
    return removed;
  }
}
