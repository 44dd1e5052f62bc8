// SQLite implementation of the stream replay log and the bridges' confirmed
// positions. The other SQLite modules call `append` inside their own writer
// jobs, so a record and its stream entry commit (or roll back) together.
// A telemetry entry holds only the seq ranges of its batch; the readings are
// read back from the telemetry table on replay.
import type { SqliteDb } from './db.js';
import type { GroupCommitWriter } from './writer.js';
import type { StreamEventName, StreamRecord, StreamStore } from './types.js';

/** Rows deleted per prune transaction, so that retention never stalls the writer for long. */
const PRUNE_CHUNK = 5000;

/** The replay log in SQLite. */
export class SqliteStream implements StreamStore {
  private readonly stmt;

  constructor(
    db: SqliteDb,
    private readonly writer: GroupCommitWriter,
  ) {
    this.stmt = {
      append: db.prepare('INSERT INTO stream_log (device_id, event, at, body) VALUES (?, ?, ?, ?)'),
      // LEFT JOIN: a record of a since-deleted device still replays (with an unknown site and class).
      after: db.prepare(
        `SELECT s.pos, s.device_id, s.event, s.body, d.site_id, d.class_id FROM stream_log s LEFT JOIN devices d ON d.id = s.device_id
         WHERE s.pos > ? ORDER BY s.pos LIMIT ?`,
      ),
      readings: db.prepare('SELECT seq, ts, vals FROM telemetry WHERE device_id = ? AND seq BETWEEN ? AND ? ORDER BY seq'),
      head: db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'stream_log'").pluck(),
      prunedThrough: db.prepare('SELECT pruned_through FROM stream_meta WHERE id = 1').pluck(),
      setPrunedThrough: db.prepare('UPDATE stream_meta SET pruned_through = max(pruned_through, ?) WHERE id = 1'),
      pruneChunk: db.prepare('SELECT pos FROM stream_log WHERE at < ? ORDER BY pos LIMIT ?').pluck(),
      deleteThrough: db.prepare('DELETE FROM stream_log WHERE pos <= ?'),
      position: db.prepare('SELECT pos FROM bridge_positions WHERE token_id = ?').pluck(),
      confirm: db.prepare(
        `INSERT INTO bridge_positions (token_id, pos, updated_at) VALUES (?, ?, ?)
         ON CONFLICT(token_id) DO UPDATE SET pos = excluded.pos, updated_at = excluded.updated_at WHERE excluded.pos > bridge_positions.pos`,
      ),
    };
  }

  /** Appends one record; call only inside a writer job. `bodyJson` is the payload without device identity and position. */
  append(deviceId: string, event: StreamEventName, at: number, bodyJson: string): number {
    return Number(this.stmt.append.run(deviceId, event, at, bodyJson).lastInsertRowid);
  }

  async readAfter(after: number, limit: number, onEmpty?: () => void): Promise<StreamRecord[]> {
    const rows = this.stmt.after.all(after, limit) as Array<{ pos: number; device_id: string; event: StreamEventName; body: string; site_id: string | null; class_id: string | null }>;
    // Reads are synchronous here: nothing can commit between this read and onEmpty.
    if (rows.length === 0) onEmpty?.();
    return rows.map((r) => {
      let body = JSON.parse(r.body) as Record<string, unknown>;
      if (r.event === 'telemetry') body = { readings: this.readingsOf(r.device_id, body.seqs as Array<[number, number]>) };
      return { pos: r.pos, event: r.event, deviceId: r.device_id, siteId: r.site_id ?? '_', classId: r.class_id ?? '_', body };
    });
  }

  /** The readings a telemetry record refers to (seq ranges of the batch as stored). */
  private readingsOf(deviceId: string, ranges: Array<[number, number]>): Array<{ seq: number; ts: number; values: unknown }> {
    const out: Array<{ seq: number; ts: number; values: unknown }> = [];
    for (const [first, last] of ranges) {
      for (const row of this.stmt.readings.all(deviceId, first, last) as Array<{ seq: number; ts: number; vals: string }>) {
        out.push({ seq: row.seq, ts: row.ts, values: JSON.parse(row.vals) });
      }
    }
    return out;
  }

  async head(): Promise<number> {
    return (this.stmt.head.get() as number | undefined) ?? 0;
  }

  async prunedThrough(): Promise<number> {
    return this.stmt.prunedThrough.get() as number;
  }

  async bridgePosition(tokenId: string): Promise<number | undefined> {
    return this.stmt.position.get(tokenId) as number | undefined;
  }

  async confirmBridgePosition(tokenId: string, pos: number, now: number): Promise<void> {
    await this.writer.submit(() => this.stmt.confirm.run(tokenId, pos, now));
  }

  async prune(cutoff: number): Promise<number> {
    let total = 0;
    for (let guard = 0; guard < 1_000_000; guard++) {
      // Positions grow with time, so "stored before cutoff" is a prefix of the log:
      // deleting through the last old position keeps the log gap-free after it.
      const removed = await this.writer.submit(() => {
        const chunk = this.stmt.pruneChunk.all(cutoff, PRUNE_CHUNK) as number[];
        if (!chunk.length) return 0;
        const last = chunk[chunk.length - 1]!;
        const n = this.stmt.deleteThrough.run(last).changes;
        this.stmt.setPrunedThrough.run(last);
        return n;
      });
      total += removed;
      if (removed < PRUNE_CHUNK) break;
    }
    return total;
  }
}
