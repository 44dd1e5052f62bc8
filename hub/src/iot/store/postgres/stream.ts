// PostgreSQL implementation of the stream replay log and the bridges'
// confirmed positions, the same shape as sqlite-stream.ts. The other modules
// call `append` inside their own writer jobs, so a record and its log entry
// commit (or roll back) together; a telemetry batch is logged by the
// telemetry statement itself (telemetry.ts) as its seq ranges.
//
// Positions come from the counter row stream_meta.head (migration 2), whose
// row lock orders the writers of every hub sharing the database: positions
// grow in commit order.
import type pg from 'pg';
import type { StreamEventName, StreamRecord, StreamStore } from '../types.js';
import type { PgGroupCommitWriter } from './writer.js';

/** Rows deleted per prune statement, so that retention never holds locks for long. */
const PRUNE_CHUNK = 5000;

const APPEND = `
  WITH h AS (UPDATE stream_meta SET head = head + 1 WHERE id = 1 RETURNING head)
  INSERT INTO stream_log (pos, device_id, event, at, body) SELECT head, $1, $2, $3, $4 FROM h RETURNING pos`;

// LEFT JOIN: a record of a since-deleted device still replays (with an unknown site and class).
const AFTER = `
  SELECT s.pos, s.device_id, s.event, s.body, d.site_id, d.class_id FROM stream_log s LEFT JOIN devices d ON d.id = s.device_id
  WHERE s.pos > $1 ORDER BY s.pos LIMIT $2`;

// The readings of a page's telemetry records: (record index, device, seq range) rows in, readings out in record and seq order.
const READINGS = `
  SELECT r.i, t.seq, t.ts, t.vals::text AS vals
  FROM unnest($1::int[], $2::text[], $3::bigint[], $4::bigint[]) AS r(i, device_id, first, last)
  JOIN telemetry t ON t.device_id = r.device_id AND t.seq BETWEEN r.first AND r.last
  ORDER BY r.i, t.seq`;

type Row = { pos: number; device_id: string; event: StreamEventName; body: string; site_id: string | null; class_id: string | null };

/** The replay log in PostgreSQL. */
export class PgStream implements StreamStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly writer: PgGroupCommitWriter,
  ) {}

  /** Appends one record in the caller's transaction (a writer job); resolves with its position. */
  async append(client: pg.ClientBase, deviceId: string, event: StreamEventName, at: number, bodyJson: string): Promise<number> {
    return (await client.query<{ pos: number }>(APPEND, [deviceId, event, at, bodyJson])).rows[0]!.pos;
  }

  /**
   * Pages are read from the pool. A read that finds nothing is read again
   * between two of the writer's groups (PgGroupCommitWriter.submitAlone), and
   * `onEmpty` runs there: every write committed before it is in that read, and
   * every later write commits, and is published, after it.
   */
  async readAfter(after: number, limit: number, onEmpty?: () => void): Promise<StreamRecord[]> {
    const page = await this.page(this.pool, after, limit);
    if (page.length > 0 || !onEmpty) return page;
    return this.writer.submitAlone(async (client) => {
      const again = await this.page(client, after, limit);
      if (again.length === 0) onEmpty();
      return again;
    });
  }

  private async page(db: pg.Pool | pg.ClientBase, after: number, limit: number): Promise<StreamRecord[]> {
    const rows = (await db.query<Row>({ name: 'sitehub-stream-after', text: AFTER, values: [after, limit] })).rows;
    const out: StreamRecord[] = rows.map((r) => ({ pos: r.pos, event: r.event, deviceId: r.device_id, siteId: r.site_id ?? '_', classId: r.class_id ?? '_', body: JSON.parse(r.body) as Record<string, unknown> }));
    await this.fillReadings(db, out);
    return out;
  }

  /**
   * Replaces each telemetry record's seq ranges with the readings they name,
   * as stored: one query for the whole page (a bridge that follows the
   * stream reads a page per wake-up, so a query per record would be its
   * main cost).
   */
  private async fillReadings(db: pg.Pool | pg.ClientBase, records: StreamRecord[]): Promise<void> {
    const index: number[] = [];
    const devices: string[] = [];
    const firsts: number[] = [];
    const lasts: number[] = [];
    records.forEach((r, i) => {
      if (r.event !== 'telemetry') return;
      for (const [first, last] of r.body.seqs as Array<[number, number]>) {
        index.push(i);
        devices.push(r.deviceId);
        firsts.push(first);
        lasts.push(last);
      }
      r.body = { readings: [] };
    });
    if (index.length === 0) return;
    const { rows } = await db.query<{ i: number; seq: number; ts: number; vals: string }>({ name: 'sitehub-stream-readings', text: READINGS, values: [index, devices, firsts, lasts] });
    for (const row of rows) (records[row.i]!.body.readings as Array<{ seq: number; ts: number; values: unknown }>).push({ seq: row.seq, ts: row.ts, values: JSON.parse(row.vals) });
  }

  async head(): Promise<number> {
    return (await this.pool.query<{ head: number }>('SELECT head FROM stream_meta WHERE id = 1')).rows[0]!.head;
  }

  async prunedThrough(): Promise<number> {
    return (await this.pool.query<{ pruned_through: number }>('SELECT pruned_through FROM stream_meta WHERE id = 1')).rows[0]!.pruned_through;
  }

  async bridgePosition(tokenId: string): Promise<number | undefined> {
    return (await this.pool.query<{ pos: number }>('SELECT pos FROM bridge_positions WHERE token_id = $1', [tokenId])).rows[0]?.pos;
  }

  async confirmBridgePosition(tokenId: string, pos: number, now: number): Promise<void> {
    await this.writer.submit((client) =>
      client.query(
        `INSERT INTO bridge_positions (token_id, pos, updated_at) VALUES ($1, $2, $3)
         ON CONFLICT (token_id) DO UPDATE SET pos = excluded.pos, updated_at = excluded.updated_at WHERE excluded.pos > bridge_positions.pos`,
        [tokenId, pos, now],
      ),
    );
  }

  async prune(cutoff: number): Promise<number> {
    let total = 0;
    for (let guard = 0; guard < 1_000_000; guard++) {
      // Positions grow with time, so "stored before cutoff" is a prefix of the log:
      // deleting through the last old position keeps the log gap-free after it.
      const removed = await this.writer.submit(async (client) => {
        const last = (await client.query<{ pos: number | null }>('SELECT max(pos) AS pos FROM (SELECT pos FROM stream_log WHERE at < $1 ORDER BY pos LIMIT $2) c', [cutoff, PRUNE_CHUNK])).rows[0]!.pos;
        if (last === null) return 0;
        const n = (await client.query('DELETE FROM stream_log WHERE pos <= $1', [last])).rowCount ?? 0;
        await client.query('UPDATE stream_meta SET pruned_through = greatest(pruned_through, $1) WHERE id = 1', [last]);
        return n;
      });
      total += removed;
      if (removed < PRUNE_CHUNK) break;
    }
    return total;
  }
}
