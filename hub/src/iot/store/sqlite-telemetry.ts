// SQLite implementation of telemetry: idempotent inserts on (device, seq),
// range reads and bucketed aggregates for charts.
import type { SqliteDb } from './db.js';
import type { SqliteStream } from './sqlite-stream.js';
import type { GroupCommitWriter } from './writer.js';
import type { EncodedReading, Reading, TelemetryBucket, TelemetryQuery, TelemetryStore, TelemetryWriteResult } from './types.js';

/** Telemetry rows in SQLite. */
export class SqliteTelemetry implements TelemetryStore {
  private readonly insertRow;
  private readonly touchDevice;
  private readonly countRows;

  constructor(
    private readonly db: SqliteDb,
    private readonly writer: GroupCommitWriter,
    private readonly stream: SqliteStream,
  ) {
    this.insertRow = db.prepare('INSERT OR IGNORE INTO telemetry (device_id, seq, ts, vals) VALUES (?, ?, ?, ?)');
    this.touchDevice = db.prepare('UPDATE devices SET last_seen = ? WHERE id = ?');
    this.countRows = db.prepare('SELECT count(*) AS n FROM telemetry WHERE device_id = ?');
  }

  insert(deviceId: string, readings: readonly EncodedReading[], receivedAt: number): Promise<TelemetryWriteResult> {
    return this.writer.submit(() => {
      const stored: Reading[] = [];
      for (const r of readings) {
        if (this.insertRow.run(deviceId, r.seq, r.ts, r.valuesJson).changes === 1) stored.push(r);
      }
      this.touchDevice.run(receivedAt, deviceId);
      if (!stored.length) return { stored, duplicates: readings.length };
      // The replay log refers to the rows just written instead of copying them: the write stays small.
      const pos = this.stream.append(deviceId, 'telemetry', receivedAt, JSON.stringify({ seqs: seqRanges(stored) }));
      return { stored, duplicates: readings.length - stored.length, pos };
    });
  }

  async query(q: TelemetryQuery): Promise<Reading[]> {
    const rows =
      q.afterSeq !== undefined
        ? this.db
            .prepare('SELECT seq, ts, vals FROM telemetry WHERE device_id = ? AND seq > ? AND ts BETWEEN ? AND ? ORDER BY seq LIMIT ?')
            .all(q.deviceId, q.afterSeq, q.from, q.to, q.limit)
        : this.db
            .prepare('SELECT seq, ts, vals FROM telemetry WHERE device_id = ? AND ts BETWEEN ? AND ? ORDER BY ts, seq LIMIT ?')
            .all(q.deviceId, q.from, q.to, q.limit);
    return (rows as Array<{ seq: number; ts: number; vals: string }>).map((r) => ({ seq: r.seq, ts: r.ts, values: JSON.parse(r.vals) }));
  }

  async aggregate(deviceId: string, metric: string, from: number, to: number, intervalMs: number): Promise<TelemetryBucket[]> {
    // Buckets are aligned on multiples of the interval so that charts of adjacent ranges line up;
    // the casts keep the division integral (JS numbers are bound as REAL).
    const rows = this.db
      .prepare(
        `SELECT (ts / CAST(@interval AS INTEGER)) * CAST(@interval AS INTEGER) AS bucket, min(v) AS min, max(v) AS max, avg(v) AS avg, count(v) AS count
         FROM (SELECT ts, json_extract(vals, @path) AS v FROM telemetry WHERE device_id = @deviceId AND ts BETWEEN @from AND @to)
         WHERE typeof(v) IN ('integer', 'real')
         GROUP BY bucket ORDER BY bucket`,
      )
      .all({ interval: intervalMs, path: jsonPath(metric), deviceId, from, to }) as Array<{ bucket: number; min: number; max: number; avg: number; count: number }>;
    return rows.map((r) => ({ ts: r.bucket, min: r.min, max: r.max, avg: r.avg, count: r.count }));
  }

  async count(deviceId: string): Promise<number> {
    return (this.countRows.get(deviceId) as { n: number }).n;
  }
}

/** Seqs as `[first, last]` ranges, in the order given (a device's batch is usually one range). */
function seqRanges(readings: readonly Reading[]): Array<[number, number]> {
  const ranges: Array<[number, number]> = [];
  for (const { seq } of readings) {
    const last = ranges[ranges.length - 1];
    if (last && seq === last[1] + 1) last[1] = seq;
    else ranges.push([seq, seq]);
  }
  return ranges;
}

/** A JSON path selecting one top-level key, quoted so that dots in metric names stay part of the name. */
function jsonPath(metric: string): string {
  return '$."' + metric.replace(/"/g, '') + '"';
}
