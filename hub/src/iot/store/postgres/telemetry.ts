// PostgreSQL implementation of telemetry: every insert of one group commit
// becomes one multi-row INSERT … ON CONFLICT DO NOTHING (idempotent on
// (device, seq)), range reads, and bucketed aggregates computed in SQL.
import type pg from 'pg';
import type { EncodedReading, Reading, TelemetryBucket, TelemetryQuery, TelemetryStore, TelemetryWriteResult } from '../types.js';
import { PARTITION_MS, type TelemetryPartitions } from './partitions.js';
import type { BatchKind, PgGroupCommitWriter } from './writer.js';

/** One device's readings as submitted by one telemetry event. */
interface InsertItem {
  deviceId: string;
  readings: readonly EncodedReading[];
  receivedAt: number;
}

/**
 * The group's readings ($1-$4, one array per column, and $5 the index of the
 * submitted batch each came from: five parameters whatever the row count, one
 * plan), its devices' last_seen ($6, $7), and each batch's device, arrival
 * time and replay-log body ($9, $10, $11, indexed by batch); $8 is the row
 * count, to tell whether any row was a duplicate.
 *
 * Each batch that stored anything gets one replay-log entry holding its seq
 * ranges (stream.ts). When every row went in (the common case) the bodies
 * computed by the caller are right as they are; only when some rows were
 * already there are the ranges computed here from what went in (the
 * one-time filters make PostgreSQL run just one of the two branches). The
 * positions are taken from the stream_meta counter row in this statement, in
 * batch order, the last one being `last_pos`; the counter's row lock, held
 * until this statement commits, orders the positions of every hub sharing
 * the database.
 */
const INSERT_AND_TOUCH = `
  WITH input AS (
    SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::json[], $5::int[]) AS u(device_id, seq, ts, vals, batch)
  ), touched AS (
    UPDATE devices d SET last_seen = v.ts
    FROM (SELECT id, ts FROM unnest($6::text[], $7::bigint[]) AS u(id, ts) ORDER BY id) v
    WHERE d.id = v.id
  ), ins AS (
    INSERT INTO telemetry (device_id, seq, ts, vals)
    SELECT device_id, seq, ts, vals FROM input
    ON CONFLICT DO NOTHING
    RETURNING device_id, seq
  ), inserted AS (
    SELECT count(*) AS n FROM ins
  ), islands AS (
    SELECT i.batch, i.seq, i.seq - row_number() OVER (PARTITION BY i.batch ORDER BY i.seq) AS island
    FROM ins JOIN input i ON i.device_id = ins.device_id AND i.seq = ins.seq
  ), ranges AS (
    SELECT batch, min(seq) AS first, max(seq) AS last FROM islands GROUP BY batch, island
  ), bodies AS (
    SELECT b.batch::int AS batch, b.body FROM unnest($11::text[]) WITH ORDINALITY AS b(body, batch)
    WHERE (SELECT n FROM inserted) = $8 AND b.body IS NOT NULL
    UNION ALL
    SELECT batch, '{"seqs":' || json_agg(json_build_array(first, last) ORDER BY first)::text || '}'
    FROM ranges WHERE (SELECT n FROM inserted) < $8 GROUP BY batch
  ), batches AS (
    SELECT batch, body, row_number() OVER (ORDER BY batch) AS k, count(*) OVER () AS n FROM bodies
  ), head AS (
    UPDATE stream_meta SET head = head + (SELECT count(*) FROM batches) WHERE id = 1 RETURNING head
  ), logged AS (
    INSERT INTO stream_log (pos, device_id, event, at, body)
    SELECT h.head - b.n + b.k, ($9::text[])[b.batch], 'telemetry', ($10::bigint[])[b.batch], b.body
    FROM batches b, head h
  )
  SELECT (SELECT n FROM inserted)::bigint AS n,
         (SELECT head FROM head) AS last_pos,
         CASE WHEN (SELECT n FROM inserted) < $8 THEN (SELECT array_agg(device_id) FROM ins) END AS devices,
         CASE WHEN (SELECT n FROM inserted) < $8 THEN (SELECT array_agg(seq) FROM ins) END AS seqs`;

/** PostgreSQL's "no partition of relation … found for row": a partition we thought existed is gone. */
const NO_PARTITION = '23514';

/** The batch kind merging a group's telemetry inserts into one statement. */
class TelemetryInserts implements BatchKind<InsertItem, TelemetryWriteResult> {
  readonly oneStatement = true;

  constructor(private readonly partitions: TelemetryPartitions) {}

  async prepare(client: pg.ClientBase, items: readonly InsertItem[]): Promise<void> {
    // One timestamp per day is enough to name a partition; the hot path checks a Set, no DDL.
    const days = new Map<number, number>();
    for (const item of items) for (const r of item.readings) days.set(Math.floor(r.ts / PARTITION_MS), r.ts);
    await this.partitions.ensure(client, days.values());
  }

  async run(client: pg.ClientBase, items: readonly InsertItem[]): Promise<TelemetryWriteResult[]> {
    // A (device, seq) given twice in the group counts once: the first occurrence is the one that may be stored.
    const first = new Set<string>();
    const devices: string[] = [];
    const seqs: number[] = [];
    const stamps: number[] = [];
    const vals: string[] = [];
    const firstOf: boolean[][] = items.map((item) =>
      item.readings.map((r) => {
        const key = item.deviceId + '\u0000' + r.seq;
        if (first.has(key)) return false;
        first.add(key);
        devices.push(item.deviceId);
        seqs.push(r.seq);
        stamps.push(r.ts);
        vals.push(r.valuesJson);
        return true;
      }),
    );
    const batchOf: number[] = [];
    firstOf.forEach((flags, k) => flags.forEach((isFirst) => isFirst && batchOf.push(k + 1)));
    const seen = new Map<string, number>();
    for (const item of items) seen.set(item.deviceId, Math.max(seen.get(item.deviceId) ?? 0, item.receivedAt));
    const ids = [...seen.keys()].sort();
    // One statement: the rows, their replay-log entries, and the devices' last_seen (in id order,
    // so that hubs touching the same devices mostly lock them in the same order; a deadlock that
    // still happens fails the group retryably). Being one statement, a group of telemetry alone
    // runs it without BEGIN/COMMIT. It answers with how many rows went in, and which ones only
    // when some were already there: sending every inserted (device, seq) back cost about a
    // quarter of the insert.
    const { rows } = await client.query<{ n: number; last_pos: number; devices: string[] | null; seqs: string[] | null }>(INSERT_AND_TOUCH, [
      devices,
      seqs,
      stamps,
      vals,
      batchOf,
      ids,
      ids.map((id) => seen.get(id)!),
      devices.length,
      items.map((item) => item.deviceId),
      items.map((item) => item.receivedAt),
      // Each batch's body if every one of its first occurrences goes in; null for a batch with none.
      items.map((item, k) => {
        const firsts = item.readings.filter((_, j) => firstOf[k]![j]);
        return firsts.length ? JSON.stringify({ seqs: seqRanges(firsts.map((r) => r.seq)) }) : null;
      }),
    ]);
    const answer = rows[0]!;
    // undefined: every first occurrence was new (the common case).
    let inserted: Set<string> | undefined;
    if (answer.n < devices.length) {
      inserted = new Set<string>();
      // No row went in at all: array_agg over nothing is NULL.
      (answer.devices ?? []).forEach((d, i) => inserted!.add(d + '\u0000' + Number(answer.seqs![i])));
    }
    const results = items.map((item, k): TelemetryWriteResult => {
      const stored: Reading[] = [];
      item.readings.forEach((r, j) => {
        if (firstOf[k]![j] && (!inserted || inserted.has(item.deviceId + '\u0000' + r.seq))) stored.push(r);
      });
      return { stored, duplicates: item.readings.length - stored.length };
    });
    // The batches that stored anything were logged in batch order, ending at last_pos.
    const logged = results.filter((r) => r.stored.length > 0);
    logged.forEach((r, i) => (r.pos = answer.last_pos - logged.length + 1 + i));
    return results;
  }

  failed(err: unknown): void {
    if ((err as { code?: string })?.code === NO_PARTITION) this.partitions.forget();
  }
}

/** Telemetry rows in PostgreSQL. */
export class PgTelemetry implements TelemetryStore {
  private readonly inserts: TelemetryInserts;

  constructor(
    private readonly pool: pg.Pool,
    private readonly writer: PgGroupCommitWriter,
    partitions: TelemetryPartitions,
  ) {
    this.inserts = new TelemetryInserts(partitions);
  }

  insert(deviceId: string, readings: readonly EncodedReading[], receivedAt: number): Promise<TelemetryWriteResult> {
    return this.writer.submitBatched(this.inserts, { deviceId, readings, receivedAt });
  }

  async query(q: TelemetryQuery): Promise<Reading[]> {
    // vals::text: pg would parse the json column itself; the text is parsed once, here, as in the SQLite store.
    const { rows } =
      q.afterSeq !== undefined
        ? await this.pool.query<{ seq: number; ts: number; vals: string }>(
            'SELECT seq, ts, vals::text AS vals FROM telemetry WHERE device_id = $1 AND seq > $2 AND ts BETWEEN $3 AND $4 ORDER BY seq LIMIT $5',
            [q.deviceId, q.afterSeq, q.from, q.to, q.limit],
          )
        : await this.pool.query<{ seq: number; ts: number; vals: string }>(
            'SELECT seq, ts, vals::text AS vals FROM telemetry WHERE device_id = $1 AND ts BETWEEN $2 AND $3 ORDER BY ts, seq LIMIT $4',
            [q.deviceId, q.from, q.to, q.limit],
          );
    return rows.map((r) => ({ seq: r.seq, ts: r.ts, values: JSON.parse(r.vals) }));
  }

  async aggregate(deviceId: string, metric: string, from: number, to: number, intervalMs: number): Promise<TelemetryBucket[]> {
    // Buckets aligned on multiples of the interval, as in the SQLite store; only numeric values count.
    const { rows } = await this.pool.query<{ bucket: number; min: number; max: number; avg: number; count: number }>(
      `SELECT (ts / $5::bigint) * $5::bigint AS bucket, min(v) AS min, max(v) AS max, avg(v) AS avg, count(v)::bigint AS count
       FROM (SELECT ts, CASE WHEN json_typeof(vals -> $2) = 'number' THEN (vals ->> $2)::float8 END AS v
             FROM telemetry WHERE device_id = $1 AND ts BETWEEN $3 AND $4) s
       WHERE v IS NOT NULL
       GROUP BY bucket ORDER BY bucket`,
      [deviceId, metric, from, to, intervalMs],
    );
    return rows.map((r) => ({ ts: r.bucket, min: r.min, max: r.max, avg: r.avg, count: r.count }));
  }

  async count(deviceId: string): Promise<number> {
    return (await this.pool.query<{ n: number }>('SELECT count(*)::bigint AS n FROM telemetry WHERE device_id = $1', [deviceId])).rows[0]!.n;
  }
}

/** Seqs as ascending `[first, last]` ranges (a device's batch is usually one range). */
function seqRanges(seqs: number[]): Array<[number, number]> {
  const ranges: Array<[number, number]> = [];
  for (const seq of [...seqs].sort((x, y) => x - y)) {
    const last = ranges[ranges.length - 1];
    if (last && seq === last[1] + 1) last[1] = seq;
    else ranges.push([seq, seq]);
  }
  return ranges;
}
